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

/* "audit, live, ... or site": the commands of the table, for the errors below. */
static const char *
command_names(char *buf, size_t len)
{
	buf[0] = '\0';
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		if (c != cli_commands)
			sm_strlcat(buf, c[1].name ? ", " : " or ", len);
		sm_strlcat(buf, c->name, len);
	}
	return buf;
}

int
main(int argc, char **argv)
{
	char names[256];
	if (argc < 2)
		return cli_usage_error(NULL, "missing command (%s)",
		                       command_names(names, sizeof(names)));
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
		return cli_usage_error(NULL, "unknown command '%s' (expected %s)", name,
		                       command_names(names, sizeof(names)));
	static struct cli_args args; /* 4096 capture names: not on the stack */
	int rc = cli_parse(argc - 1, argv + 1, cmd, &args);
	return rc >= 0 ? rc : cmd->run(&args);
}
