/*
 * smaudit: the program's entry.  Picks the command from the table of cli.c, parses its
 * options and runs its handler; the exit statuses are those of docs/exit-status.md.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_command *
find_command(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(NULL, "%s",
		                       "missing command (audit, live, check, report, query, "
		                       "timeline, diff, extract or site)");
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		const struct cli_command *c =
		    argc > 2 && strcmp(name, "help") == 0 ? find_command(argv[2]) : NULL;
		if (c != NULL)
			cli_print_command_help(stdout, c);
		else
			cli_print_overview(stdout);
		return SM_EXIT_CLEAN;
	}
	if (strcmp(name, "--complete") == 0)
		return cli_print_completion(argc > 2 ? argv[2] : NULL);
	if (strcmp(name, "--version") == 0) {
		printf("smaudit %s\n", SMAUDIT_VERSION);
		return SM_EXIT_CLEAN;
	}
	const struct cli_command *cmd = find_command(name);
	if (cmd == NULL)
		return cli_usage_error(NULL,
		                       "unknown command '%s' (expected audit, live, check, report, "
		                       "query, timeline, diff, extract or site)",
		                       name);
	static struct cli_args args; /* 4096 capture names: not on the stack */
	int rc = cli_parse(argc - 1, argv + 1, cmd, &args);
	return rc >= 0 ? rc : cmd->run(&args);
}
