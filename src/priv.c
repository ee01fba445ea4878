#define _GNU_SOURCE /* setresuid, setresgid, getgrouplist, si_syscall */
#include "smaudit/priv.h"

#include <cap-ng.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
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

/* The user who writes the files once privileges are dropped. */
static uid_t
writer_uid(const struct sm_priv *p)
{
	return p->drop ? p->uid : geteuid();
}

static const char *
user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);
	if (pw != NULL)
		sm_strlcpy(buf, pw->pw_name, len);
	else
		snprintf(buf, len, "uid %ld", (long)uid);
	return buf;
}

enum sm_err
sm_priv_open_file(const struct sm_priv *p, const char *path, const char *what, int *fd,
                  struct sm_errbuf *eb)
{
	*fd = -1;
	/* the directory is opened once; the file is looked up in it, never by path again */
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char dir[4096];
	if (*base == '\0')
		return sm_error(eb, SM_ERR_IO, "%s: cannot write the %s: names a directory", path,
		                what);
	if (slash == NULL)
		sm_strlcpy(dir, ".", sizeof(dir));
	else if (slash == path)
		sm_strlcpy(dir, "/", sizeof(dir));
	else if ((size_t)(slash - path) >= sizeof(dir))
		return sm_error(eb, SM_ERR_IO, "%s: path too long", path);
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sm_error(eb, SM_ERR_IO, "%s: cannot write the %s: %s: %s", path, what, dir,
		                strerror(errno));
	int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	int f = openat(dfd, base, flags | O_CREAT | O_EXCL, 0644);
	bool created = f >= 0;
	if (f < 0 && errno == EEXIST)
		f = openat(dfd, base, flags | O_NONBLOCK); /* O_NONBLOCK: a FIFO must not hang */
	int err = errno;
	close(dfd);
	if (f < 0 && err == ELOOP)
		return sm_error(eb, SM_ERR_IO,
		                "%s: is a symbolic link: smaudit does not write the %s through "
		                "one (remove it, or name the file it points to)",
		                path, what);
	if (f < 0)
		return sm_error(eb, SM_ERR_IO, "%s: cannot write the %s: %s", path, what,
		                strerror(err));
	struct stat st;
	const char *why = NULL;
	char owner[64], runner[64];
	if (fstat(f, &st) != 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (!created && st.st_nlink != 1)
		why = "it has other hard links: smaudit does not replace a file it did not create";
	else if (!created && geteuid() == 0 && st.st_uid != 0 && st.st_uid != writer_uid(p)) {
		user_name(st.st_uid, owner, sizeof(owner));
		user_name(writer_uid(p), runner, sizeof(runner));
		close(f);
		return sm_error(eb, SM_ERR_IO,
		                "%s: belongs to %s, not to root or %s: smaudit does not replace "
		                "another user's file (remove it or choose another name)",
		                path, owner, runner);
	} else if (created && p->drop && fchown(f, p->uid, p->gid) != 0)
		why = strerror(errno);
	if (why == NULL && fcntl(f, F_SETFL, 0) != 0)
		why = strerror(errno);
	if (why != NULL) {
		close(f);
		return sm_error(eb, SM_ERR_IO, "%s: cannot write the %s: %s", path, what, why);
	}
	*fd = f;
	return SM_OK;
}

/* Whether uid (with its groups) may create files in a directory of this mode. */
static bool
may_write_dir(const struct sm_priv *p, const struct stat *st)
{
	uid_t uid = writer_uid(p);
	if (st->st_uid == uid)
		return (st->st_mode & (S_IWUSR | S_IXUSR)) == (S_IWUSR | S_IXUSR);
	gid_t groups[256];
	int n = 256;
	bool member = false;
	if (p->drop) {
		if (getgrouplist(p->user, p->gid, groups, &n) < 0)
			n = 0;
	} else {
		n = getgroups(256, groups);
		member = getegid() == st->st_gid;
	}
	for (int i = 0; i < n && !member; i++)
		member = groups[i] == st->st_gid;
	if (member)
		return (st->st_mode & (S_IWGRP | S_IXGRP)) == (S_IWGRP | S_IXGRP);
	return (st->st_mode & (S_IWOTH | S_IXOTH)) == (S_IWOTH | S_IXOTH);
}

enum sm_err
sm_priv_ring_dir(const struct sm_priv *p, const char *dir, struct sm_errbuf *eb)
{
	bool created = mkdir(dir, 0750) == 0;
	if (!created && errno != EEXIST)
		return sm_error(eb, SM_ERR_IO, "-w %s: cannot create the ring directory: %s", dir,
		                strerror(errno));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR) && lstat(dir, &st) == 0 &&
	    S_ISLNK(st.st_mode))
		errno = ELOOP; /* O_DIRECTORY says ENOTDIR for a link */
	if (fd < 0 && errno == ELOOP)
		return sm_error(eb, SM_ERR_IO,
		                "-w %s: is a symbolic link: smaudit does not keep the ring "
		                "through one (name the directory it points to)",
		                dir);
	if (fd < 0)
		return sm_error(eb, SM_ERR_IO, "-w %s: cannot open the ring directory: %s", dir,
		                strerror(errno));
	enum sm_err e = SM_OK;
	char owner[64];
	if (fstat(fd, &st) != 0)
		e = sm_error(eb, SM_ERR_IO, "-w %s: %s", dir, strerror(errno));
	else if (created && p->drop && fchown(fd, p->uid, p->gid) != 0)
		e = sm_error(eb, SM_ERR_IO, "-w %s: cannot give the ring directory to %s: %s", dir,
		             p->user, strerror(errno));
	else if (!created && !may_write_dir(p, &st))
		e = sm_error(eb, SM_ERR_IO,
		             "-w %s: user %s could not write the ring files there (owner %s, mode "
		             "%03o): give it to that user (chown), choose a new directory for "
		             "smaudit to create, or pick another -Z user",
		             dir, p->drop ? p->user : user_name(geteuid(), owner, sizeof(owner)),
		             user_name(st.st_uid, owner, sizeof(owner)),
		             (unsigned)(st.st_mode & 07777));
	close(fd);
	return e;
}

/* Capabilities belong to each thread, and the SQLite writer thread already runs:
 * it clears its own in a signal handler, which only raw system calls can do. */
static atomic_int threads_cleared, threads_failed;

static void
clear_thread_caps(int sig)
{
	(void)sig;
	int saved = errno;
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
		atomic_fetch_add(&threads_cleared, 1);
	else
		atomic_fetch_add(&threads_failed, 1);
	errno = saved;
}

/*
 * Makes every other thread clear its capabilities.  Needed when the uid does
 * not change (a non-root start with file capabilities, -Z root); a change of
 * uid clears them in every thread (glibc changes the uid of each).
 */
static enum sm_err
drop_other_threads_caps(struct sm_errbuf *eb)
{
	DIR *dir = opendir("/proc/self/task");
	if (dir == NULL)
		return sm_error(eb, SM_ERR_IO,
		                "cannot list the threads to drop their capabilities: "
		                "/proc/self/task: %s",
		                strerror(errno));
	int sig = SIGRTMIN + 2;
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = clear_thread_caps;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, &old) != 0) {
		closedir(dir);
		return sm_error(eb, SM_ERR_IO, "cannot drop the capabilities of the threads: %s",
		                strerror(errno));
	}
	atomic_store(&threads_cleared, 0);
	atomic_store(&threads_failed, 0);
	long self = syscall(SYS_gettid);
	int sent = 0;
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);
		if (*end == '\0' && tid > 0 && tid != self &&
		    syscall(SYS_tgkill, (long)getpid(), tid, (long)sig) == 0)
			sent++;
	}
	closedir(dir);
	struct timespec ms = {0, 1000000};
	for (int i = 0;
	     i < 5000 && atomic_load(&threads_cleared) + atomic_load(&threads_failed) < sent; i++)
		nanosleep(&ms, NULL);
	int cleared = atomic_load(&threads_cleared);
	sigaction(sig, &old, NULL);
	if (cleared != sent)
		return sm_error(eb, SM_ERR_IO, "%d of %d threads could not drop their capabilities",
		                sent - cleared, sent);
	return SM_OK;
}

/* Clears every capability (and the bounding set when allowed), sets no_new_privs. */
static enum sm_err
drop_capabilities(struct sm_errbuf *eb)
{
	if (capng_get_caps_process() != 0)
		return sm_error(eb, SM_ERR_IO, "cannot read the process capabilities");
	/* CAP_SETPCAP is needed to shrink the bounding set; no_new_privs makes it moot */
	bool bounding = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) != 0;
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(bounding ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS) != 0)
		return sm_error(eb, SM_ERR_IO, "cannot drop the capabilities: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return sm_error(eb, SM_ERR_IO, "cannot set no_new_privs: %s", strerror(errno));
	if (capng_get_caps_process() != 0 ||
	    capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return sm_error(eb, SM_ERR_IO, "capabilities remain after dropping them");
	return SM_OK;
}

enum sm_err
sm_priv_drop(const struct sm_priv *p, const char *chroot_dir, struct sm_errbuf *eb)
{
	if (!p->drop) {
		enum sm_err e = drop_other_threads_caps(eb); /* while /proc is there */
		if (e != SM_OK)
			return e;
		if (chroot_dir != NULL && geteuid() == 0 &&
		    (chroot(chroot_dir) != 0 || chdir("/") != 0))
			return sm_error(eb, SM_ERR_IO, "--chroot %s: %s", chroot_dir,
			                strerror(errno));
		return drop_capabilities(eb);
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
	return drop_capabilities(eb);
}

/* ---- seccomp ---- */

/* A refused call: say which, and end with the runtime-error status. */
static void
refused(int sig, siginfo_t *si, void *uctx)
{
	(void)sig;
	(void)uctx;
	char msg[160] = "smaudit: the seccomp sandbox refused system call ";
	size_t n = strlen(msg);
	char digits[16];
	size_t nd = 0;
	unsigned v = (unsigned)si->si_syscall;
	do
		digits[nd++] = (char)('0' + v % 10);
	while ((v /= 10) != 0 && nd < sizeof(digits));
	while (nd > 0)
		msg[n++] = digits[--nd];
	static const char tail[] = " (a bug: please report it with the command line)\n";
	memcpy(msg + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	if (write(STDERR_FILENO, msg, n) < 0) {
		/* nothing left to tell it to */
	}
	_exit(3);
}

/*
 * What the process does once it parses packets: read the capture (poll,
 * socket options of the packet socket), write the ring, SQLite (files, locks,
 * the WAL index in shared memory, its writer thread) and the report; memory,
 * time, and its own threads.  No new sockets, no exec, no ptrace, no changes
 * of identity.  Deliberately generous where glibc or SQLite may need a call
 * now and then (openat, unlink, stat family): a missing call ends a live run.
 */
static const int allowed[] = {
    SCMP_SYS(read),
    SCMP_SYS(readv),
    SCMP_SYS(pread64),
    SCMP_SYS(write),
    SCMP_SYS(writev),
    SCMP_SYS(pwrite64),
    SCMP_SYS(lseek),
    SCMP_SYS(close),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(lstat),
    SCMP_SYS(stat),
    SCMP_SYS(openat),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(ftruncate),
    SCMP_SYS(fcntl),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(fchown),
    SCMP_SYS(fchmod),
    SCMP_SYS(getcwd),
    SCMP_SYS(readlink),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    SCMP_SYS(nanosleep),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(getsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(fallocate),
    SCMP_SYS(preadv),
    SCMP_SYS(pwritev),
    SCMP_SYS(getrandom),
    SCMP_SYS(futex),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(uname),
    SCMP_SYS(sysinfo),
    SCMP_SYS(getrlimit),
    SCMP_SYS(prlimit64),
    SCMP_SYS(restart_syscall),
};

/*
 * The sanitizer runtime (test builds with SMAUDIT_SANITIZE) reads /proc and,
 * at exit, stops the world with a ptrace-ing helper to look for leaks.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifdef SANITIZED
static const int sanitizer_allowed[] = {
    SCMP_SYS(clone),
    SCMP_SYS(ptrace),
    SCMP_SYS(wait4),
    SCMP_SYS(prctl),
    SCMP_SYS(getdents64),
    SCMP_SYS(getdents),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(readlinkat),
    SCMP_SYS(open),
    SCMP_SYS(pipe2),
    SCMP_SYS(tgkill),
    SCMP_SYS(kill),
    SCMP_SYS(getppid),
    SCMP_SYS(mmap),
    SCMP_SYS(mprotect),
    SCMP_SYS(dup),
    SCMP_SYS(dup2),
    SCMP_SYS(sched_setaffinity),
};
#endif

/* Talking to a database server: its socket (Unix, IPv4, IPv6 only), name lookups. */
static const int network_calls[] = {
    SCMP_SYS(connect),     SCMP_SYS(sendto),   SCMP_SYS(recvfrom),
    SCMP_SYS(sendmsg),     SCMP_SYS(recvmsg),  SCMP_SYS(setsockopt),
    SCMP_SYS(getpeername), SCMP_SYS(shutdown), SCMP_SYS(bind),
};

enum sm_err
sm_priv_confine(bool network, struct sm_errbuf *eb)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = refused;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		return sm_error(eb, SM_ERR_IO, "cannot set up the seccomp sandbox: %s",
		                strerror(errno));
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
	if (f == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "cannot set up the seccomp sandbox");
	int rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1); /* the SQLite writer too */
	for (size_t i = 0; rc == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
	/* new threads only; glibc falls back from clone3 to clone on ENOSYS */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		                      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	for (size_t i = 0; network && rc == 0 && i < sizeof(network_calls) / sizeof(int); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, network_calls[i], 0);
	static const int families[] = {AF_UNIX, AF_INET, AF_INET6};
	for (size_t i = 0; network && rc == 0 && i < sizeof(families) / sizeof(int); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		                      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]));
	/* memory is never made executable */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		                      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
		                      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* glibc's own thread signals (cancel, setxid), set up by the first pthread_create */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(rt_sigaction), 1,
		                      SCMP_A0(SCMP_CMP_EQ, __SIGRTMIN));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(rt_sigaction), 1,
		                      SCMP_A0(SCMP_CMP_EQ, __SIGRTMIN + 1));
	/* kill(pid, 0): is the process of a run still alive (store) */
	if (rc == 0)
		rc =
		    seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, SCMP_A1(SCMP_CMP_EQ, 0));
	/* abort() and raise() signal this process only */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		                      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* isatty() of stdio, the interface flags libpcap reads when a link fails */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		                      SCMP_A1(SCMP_CMP_EQ, TCGETS));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		                      SCMP_A1(SCMP_CMP_EQ, SIOCGIFFLAGS));
	/* libpcap tears its ring down with a SOL_PACKET option when it closes */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1,
		                      SCMP_A1(SCMP_CMP_EQ, SOL_PACKET));
#ifdef SANITIZED
	for (size_t i = 0; rc == 0 && i < sizeof(sanitizer_allowed) / sizeof(sanitizer_allowed[0]);
	     i++) {
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, sanitizer_allowed[i], 0);
		if (rc == -EEXIST)
			rc = 0; /* a conditional rule for it above: allowed outright instead */
	}
#endif
	if (rc == 0)
		rc = seccomp_load(f);
	seccomp_release(f);
	if (rc != 0)
		return sm_error(eb, SM_ERR_IO, "cannot set up the seccomp sandbox: %s",
		                strerror(-rc));
	return SM_OK;
}
