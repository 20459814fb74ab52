// Subcommand entry points of the `pnas` binary. Each returns the process exit status:
// 0 success, 1 failure (diagnostic already on stderr), 2 usage error.
// Only command functions print and choose exit codes; library code returns statuses.
#ifndef PNAS_CLI_H
#define PNAS_CLI_H

int cmd_cost(int argc, char **argv);
int cmd_space(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_predictor(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_table(int argc, char **argv);

#endif
