# Figures of report.md / report.html: run `gnuplot plots.gp` in this folder.
set terminal svg size 720,420 font 'sans,12' background rgb 'white'
set grid lc rgb '#dddddd'
set key left top
set border lc rgb '#444444'

set output 'fig-top1-models.svg'
set xlabel 'models trained'
set ylabel 'best validation accuracy so far (top-1)'
plot 'curve-pnas-models.tsv' using 1:3:4 with filledcurves fs transparent solid 0.15 noborder lc rgb '#d62728' notitle, \
     'curve-rl-models.tsv' using 1:3:4 with filledcurves fs transparent solid 0.15 noborder lc rgb '#1f77b4' notitle, \
     'curve-random-models.tsv' using 1:3:4 with filledcurves fs transparent solid 0.15 noborder lc rgb '#7f7f7f' notitle, \
     'curve-evolution-models.tsv' using 1:3:4 with filledcurves fs transparent solid 0.15 noborder lc rgb '#2ca02c' notitle, \
     'curve-pnas-models.tsv' using 1:2 with lines lw 2 lc rgb '#d62728' title 'pnas (2 seeds)', \
     'curve-rl-models.tsv' using 1:2 with lines lw 2 lc rgb '#1f77b4' title 'rl (2 seeds)', \
     'curve-random-models.tsv' using 1:2 with lines lw 2 lc rgb '#7f7f7f' title 'random (2 seeds)', \
     'curve-evolution-models.tsv' using 1:2 with lines lw 2 lc rgb '#2ca02c' title 'evolution (2 seeds)'

set output 'fig-top5-models.svg'
set xlabel 'models trained'
set ylabel 'mean of the 5 best validation accuracies so far'
plot 'curve-pnas-models.tsv' using 1:6:7 with filledcurves fs transparent solid 0.15 noborder lc rgb '#d62728' notitle, \
     'curve-rl-models.tsv' using 1:6:7 with filledcurves fs transparent solid 0.15 noborder lc rgb '#1f77b4' notitle, \
     'curve-random-models.tsv' using 1:6:7 with filledcurves fs transparent solid 0.15 noborder lc rgb '#7f7f7f' notitle, \
     'curve-evolution-models.tsv' using 1:6:7 with filledcurves fs transparent solid 0.15 noborder lc rgb '#2ca02c' notitle, \
     'curve-pnas-models.tsv' using 1:5 with lines lw 2 lc rgb '#d62728' title 'pnas (2 seeds)', \
     'curve-rl-models.tsv' using 1:5 with lines lw 2 lc rgb '#1f77b4' title 'rl (2 seeds)', \
     'curve-random-models.tsv' using 1:5 with lines lw 2 lc rgb '#7f7f7f' title 'random (2 seeds)', \
     'curve-evolution-models.tsv' using 1:5 with lines lw 2 lc rgb '#2ca02c' title 'evolution (2 seeds)'

set output 'fig-top1-examples.svg'
set xlabel 'examples processed (millions)'
set ylabel 'best validation accuracy so far (top-1)'
plot 'curve-pnas-examples.tsv' using 1:3:4 with filledcurves fs transparent solid 0.15 noborder lc rgb '#d62728' notitle, \
     'curve-rl-examples.tsv' using 1:3:4 with filledcurves fs transparent solid 0.15 noborder lc rgb '#1f77b4' notitle, \
     'curve-random-examples.tsv' using 1:3:4 with filledcurves fs transparent solid 0.15 noborder lc rgb '#7f7f7f' notitle, \
     'curve-evolution-examples.tsv' using 1:3:4 with filledcurves fs transparent solid 0.15 noborder lc rgb '#2ca02c' notitle, \
     'curve-pnas-examples.tsv' using 1:2 with lines lw 2 lc rgb '#d62728' title 'pnas (2 seeds)', \
     'curve-rl-examples.tsv' using 1:2 with lines lw 2 lc rgb '#1f77b4' title 'rl (2 seeds)', \
     'curve-random-examples.tsv' using 1:2 with lines lw 2 lc rgb '#7f7f7f' title 'random (2 seeds)', \
     'curve-evolution-examples.tsv' using 1:2 with lines lw 2 lc rgb '#2ca02c' title 'evolution (2 seeds)'

set output 'fig-top5-examples.svg'
set xlabel 'examples processed (millions)'
set ylabel 'mean of the 5 best validation accuracies so far'
plot 'curve-pnas-examples.tsv' using 1:6:7 with filledcurves fs transparent solid 0.15 noborder lc rgb '#d62728' notitle, \
     'curve-rl-examples.tsv' using 1:6:7 with filledcurves fs transparent solid 0.15 noborder lc rgb '#1f77b4' notitle, \
     'curve-random-examples.tsv' using 1:6:7 with filledcurves fs transparent solid 0.15 noborder lc rgb '#7f7f7f' notitle, \
     'curve-evolution-examples.tsv' using 1:6:7 with filledcurves fs transparent solid 0.15 noborder lc rgb '#2ca02c' notitle, \
     'curve-pnas-examples.tsv' using 1:5 with lines lw 2 lc rgb '#d62728' title 'pnas (2 seeds)', \
     'curve-rl-examples.tsv' using 1:5 with lines lw 2 lc rgb '#1f77b4' title 'rl (2 seeds)', \
     'curve-random-examples.tsv' using 1:5 with lines lw 2 lc rgb '#7f7f7f' title 'random (2 seeds)', \
     'curve-evolution-examples.tsv' using 1:5 with lines lw 2 lc rgb '#2ca02c' title 'evolution (2 seeds)'
unset output
