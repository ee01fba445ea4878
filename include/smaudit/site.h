/*
 * site: who is who.  Parses the site file of docs/site-file.md
 * ("role NAME ADDR|CIDR ...") into roles with their members, reporting every
 * error as FILE:LINE:COL.  An address (or overlapping prefixes) in two roles
 * is an error naming both places; a repeat within one role is a warning (an
 * address already covered by the role is not added again).
 */
#ifndef SMAUDIT_SITE_H
#define SMAUDIT_SITE_H

#include <stdbool.h>
#include <stddef.h>

#include "smaudit/addr.h"
#include "smaudit/err.h"
#include "smaudit/sensor.h" /* SM_SENSOR_NAME_MAX */

#define SM_ROLE_NAME_MAX 40

struct sm_member {
	struct sm_prefix prefix;
	char text[64]; /* as written, canonical */
	int line, col;
};

struct sm_role {
	char name[SM_ROLE_NAME_MAX];
	struct sm_member *members;
	size_t nmembers;
	int line, col; /* where the name stands */
};

/* `sensor NAME near ROLE`: a capture point stands next to a role's addresses, so it
 * is on the path of their flows whatever it saw (several sensors, SPEC section 7). */
struct sm_site_sensor {
	char name[SM_SENSOR_NAME_MAX];
	char role[SM_ROLE_NAME_MAX];
	int line, col; /* where the role's name stands */
};

struct sm_site {
	char *path;
	struct sm_role *roles;
	size_t nroles;
	struct sm_site_sensor *sensors;
	size_t nsensors;
};

/* Parses text (named fname in messages).  out is freed with sm_site_free. */
enum sm_err sm_site_parse(const char *text, const char *fname, struct sm_site *out, sm_warn_fn warn,
                          void *ctx, struct sm_errbuf *eb);
enum sm_err sm_site_load(const char *path, struct sm_site *out, sm_warn_fn warn, void *ctx,
                         struct sm_errbuf *eb);
void sm_site_free(struct sm_site *s);
const struct sm_role *sm_site_role(const struct sm_site *s, const char *name);
/* Index of the member of role r that contains a, or -1. */
int sm_role_member(const struct sm_role *r, const struct sm_addr *a);
bool sm_role_name_valid(const char *name);

#endif
