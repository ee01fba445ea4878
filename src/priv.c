#define _GNU_SOURCE /* setresuid, setresgid */
#include "smaudit/priv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool
lookup(const char *name, struct sm_priv *out)
{
	struct passwd *pw = getpwnam(name);
	if (pw == NULL)
		return false;
	sm_strlcpy(out->user, pw->pw_name, sizeof(out->user));
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	return true;
}

enum sm_err
sm_priv_resolve(const char *user, struct sm_priv *out, struct sm_errbuf *eb)
{
	memset(out, 0, sizeof(*out));
	if (geteuid() != 0) {
		struct passwd *me = getpwuid(geteuid());
		if (user != NULL && (me == NULL || strcmp(user, me->pw_name) != 0))
			return sm_error(eb, SM_ERR_USAGE,
			                "-Z %s: only root can change user; run as root or leave "
			                "-Z out",
			                user);
		return SM_OK;
	}
	if (user != NULL) {
		if (!lookup(user, out))
			return sm_error(eb, SM_ERR_USAGE, "-Z %s: no such user", user);
		out->drop = out->uid != 0;
		return SM_OK;
	}
	const char *sudo = getenv("SUDO_USER");
	if ((sudo != NULL && strcmp(sudo, "root") != 0 && lookup(sudo, out)) ||
	    lookup("tcpdump", out) || lookup("nobody", out))
		out->drop = out->uid != 0;
	return SM_OK;
}

void
sm_priv_give(const struct sm_priv *p, const char *path)
{
	struct stat st;
	if (p->drop && path != NULL && stat(path, &st) == 0 && st.st_uid == 0)
		if (chown(path, p->uid, p->gid) != 0) {
			/* the run still works through the open descriptors */
		}
}

enum sm_err
sm_priv_drop(const struct sm_priv *p, const char *chroot_dir, struct sm_errbuf *eb)
{
	if (!p->drop) {
		if (chroot_dir != NULL && geteuid() == 0 &&
		    (chroot(chroot_dir) != 0 || chdir("/") != 0))
			return sm_error(eb, SM_ERR_IO, "--chroot %s: %s", chroot_dir,
			                strerror(errno));
		return SM_OK;
	}
	if (initgroups(p->user, p->gid) != 0 && setgroups(1, &p->gid) != 0)
		return sm_error(eb, SM_ERR_IO, "cannot set the groups of %s: %s", p->user,
		                strerror(errno));
	if (chroot_dir != NULL && (chroot(chroot_dir) != 0 || chdir("/") != 0))
		return sm_error(eb, SM_ERR_IO, "--chroot %s: %s", chroot_dir, strerror(errno));
	if (setresgid(p->gid, p->gid, p->gid) != 0 || setresuid(p->uid, p->uid, p->uid) != 0)
		return sm_error(eb, SM_ERR_IO, "cannot become user %s: %s", p->user,
		                strerror(errno));
	if (setuid(0) == 0 || geteuid() == 0)
		return sm_error(eb, SM_ERR_IO, "root could be regained after dropping to %s",
		                p->user);
	return SM_OK;
}
