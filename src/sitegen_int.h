/*
 * sitegen_int: the site being generated, shared by its two readers (sitegen.c
 * guesses from traffic, sitegen_ontap.c reads ONTAP's command output): addresses
 * with a role and where each came from, written as a site file that always
 * parses.
 */
#ifndef SMAUDIT_SITEGEN_INT_H
#define SMAUDIT_SITEGEN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "smaudit/addr.h"
#include "smaudit/sitegen.h"

/* Roles a generated site can name, in output order; clustered ones get -a/-b. */
enum gen_role { GR_IC, GR_CLUSTER_MGMT, GR_NODE_MGMT, GR_MEDIATOR, GR_ADMIN, GR_COUNT };

struct gen_entry {
	enum gen_role role;
	int cluster; /* 0 = a, 1 = b, -1 none */
	char addr[SM_ADDRSTRLEN];
	char why[160];
};

/* An address found for a second role: written as a comment, since a site file
 * gives an address one role (docs/site-file.md). */
struct gen_left_out {
	struct gen_entry entry;
	size_t kept; /* index in gen.e of the role it keeps */
};

struct gen {
	struct gen_entry *e;
	size_t n, cap;
	struct gen_left_out *left;
	size_t nleft, capleft;
	char clusters[2][64];
	const char *cluster_file[2]; /* where each was first seen; not owned */
	size_t nclusters;
	bool oom;
};

/* Adds addr (false if it is no address) with its role and origin; an address
 * already there with another role is kept as a "left out" comment. */
bool gen_add(struct gen *g, enum gen_role role, int cluster, const char *addr, const char *why);
const char *gen_role_str(enum gen_role r, int cluster, char *buf, size_t len);
/* The entry that has addr with role for the other cluster than cluster, or NULL:
 * one address cannot be both clusters' LIF. */
const struct gen_entry *gen_clash(const struct gen *g, enum gen_role role, int cluster,
                                  const char *addr);
void gen_free(struct gen *g);
/* Writes the site: one role line per role, each address's origin as a comment. */
void gen_write(const struct gen *g, FILE *out);

#endif
