# bash completion for pnas: commands, and each command's flags as its own --help lists them
# (so completion cannot drift from the program). Installed by `cmake --install` into
# share/bash-completion/completions/pnas.
_pnas() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac
  done
  local cmds
  cmds=$(pnas --help 2>/dev/null | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}')
  if [ -z "$cmd" ] && [[ $cur != -* ]]; then
    COMPREPLY=($(compgen -W "$cmds help" -- "$cur"))
    return
  fi
  [ "$cmd" = help ] && { COMPREPLY=($(compgen -W "$cmds" -- "$cur")); return; }
  if [[ $cur == -* ]]; then
    local flags
    flags=$(pnas ${cmd:-search} --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _pnas pnas
