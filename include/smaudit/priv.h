/*
 * priv: giving up root once the capture and the files are open, the way
 * tcpdump -Z does.  Resolves the user before any chroot, hands files the run
 * created to that user, then changes root (optional), groups, gid and uid,
 * and checks that root cannot be regained.  Packets are parsed only after.
 */
#ifndef SMAUDIT_PRIV_H
#define SMAUDIT_PRIV_H

#include <stdbool.h>
#include <sys/types.h>

#include "smaudit/err.h"

struct sm_priv {
	char user[64];
	uid_t uid;
	gid_t gid;
	bool drop; /* false: not root, nothing to drop */
};

/*
 * Chooses whom to run as.  user NULL picks the default when running as root:
 * the user who ran sudo (SUDO_USER), else "tcpdump", else "nobody".  "root"
 * keeps root.  Not root: nothing to drop, and naming another user is an error.
 */
enum sm_err sm_priv_resolve(const char *user, struct sm_priv *out, struct sm_errbuf *eb);

/* Gives path to the user when it belongs to root (a file this run created). */
void sm_priv_give(const struct sm_priv *p, const char *path);

/* Drops to the user, after chroot(chroot_dir) when not NULL. */
enum sm_err sm_priv_drop(const struct sm_priv *p, const char *chroot_dir, struct sm_errbuf *eb);

#endif
