/*
 * priv: giving up root once the capture and the files are open, the way
 * tcpdump -Z does, and then more.  Resolves the user before any chroot, opens
 * the files a root process writes without following a symbolic link or taking
 * over another user's file, hands files the run created to that user by
 * descriptor, then changes root (optional), groups, gid and uid, drops every
 * capability and sets no_new_privs.  When parsing starts, a seccomp filter
 * confines the process to the system calls the live loop, SQLite and the
 * report use.  The only user of libcap-ng and libseccomp.
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

/*
 * Opens path (what) for writing, relative to its directory: a symbolic link
 * as the last component is refused, so are anything but a regular file, a
 * file with other hard links, and (as root) a file that neither root nor the
 * user owns.  A file this call creates is given to the user through the
 * descriptor.  *fd is the open descriptor (the caller closes it).
 */
enum sm_err sm_priv_open_file(const struct sm_priv *p, const char *path, const char *what, int *fd,
                              struct sm_errbuf *eb);

/*
 * The ring directory (-w): created and given to the user when missing; an
 * existing one must be a real directory (no symbolic link) that the user
 * can write, else an error says how to fix it, before the capture starts.
 */
enum sm_err sm_priv_ring_dir(const struct sm_priv *p, const char *dir, struct sm_errbuf *eb);

/*
 * Drops to the user, after chroot(chroot_dir) when not NULL; then clears
 * every capability (a non-root start with file capabilities keeps none) and
 * sets no_new_privs.  Checks that neither root nor a capability is left.
 */
enum sm_err sm_priv_drop(const struct sm_priv *p, const char *chroot_dir, struct sm_errbuf *eb);

/*
 * Confines the process (every thread) with a seccomp filter before it parses
 * packets.  Any system call outside the allow-list (src/priv.c) ends the
 * process with exit status 3 and a message naming the call.  network: the run
 * writes to a database server (PostgreSQL), so sockets of the Unix and IP
 * families may be opened, connected and used (its connection, and a new one after
 * it was lost); otherwise no socket is opened.
 */
enum sm_err sm_priv_confine(bool network, struct sm_errbuf *eb);

#endif
