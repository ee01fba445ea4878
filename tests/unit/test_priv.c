/*
 * The seccomp sandbox of live (sm_priv_confine), in a forked child: a forbidden
 * system call ends the process with exit status 3 and a message naming it; what the
 * live loop, SQLite's writer thread and the report do still works.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "smaudit/priv.h"

/* Runs body in a confined child (network: as for a database server); its exit status
 * (128 + signal if killed), its stderr. */
static int
confined_as(bool network, void (*body)(void), char *err, size_t len)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		struct sm_errbuf eb;
		if (sm_priv_confine(network, &eb) != SM_OK) {
			fprintf(stderr, "confine: %s\n", eb.msg);
			_exit(99);
		}
		body();
		_exit(0);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < len && (r = read(p[0], err + n, len - 1 - n)) > 0)
		n += (size_t)r;
	err[n] = '\0';
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
confined(void (*body)(void), char *err, size_t len)
{
	return confined_as(false, body, err, len);
}

static void
open_socket(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	fprintf(stderr, "socket() returned %d\n", s);
}

/* A PostgreSQL client's calls: a Unix socket, connect (refused: nobody listens), send. */
static void
db_client(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "/nonexistent/.s.PGSQL.5432");
	int c = connect(s, (struct sockaddr *)&a, sizeof(a));
	int t = socket(AF_INET6, SOCK_STREAM, 0);
	fprintf(stderr, "%s\n", s >= 0 && c < 0 && t >= 0 ? "done" : "failed");
}

/* A packet socket is not a database's. */
static void
packet_socket(void)
{
	int s = socket(AF_PACKET, SOCK_RAW, 0);
	fprintf(stderr, "socket() returned %d\n", s);
}

static void
run_program(void)
{
	execl("/bin/true", "true", (char *)NULL);
	fprintf(stderr, "execl() returned\n");
}

static void *
thread_main(void *arg)
{
	return arg;
}

/* What a live run does once confined: memory, time, a thread, files, a pipe. */
static void
live_work(void)
{
	char *big = malloc(64u << 20); /* mmap */
	if (big == NULL)
		_exit(10);
	memset(big, 1, 64u << 20);
	free(big);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_t t;
	void *ret = NULL;
	if (pthread_create(&t, NULL, thread_main, &ts) != 0 || pthread_join(t, &ret) != 0 ||
	    ret != &ts)
		_exit(11);
	char path[] = "/tmp/smaudit-priv-test-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || pwrite(fd, "x", 1, 0) != 1 || fsync(fd) != 0 || ftruncate(fd, 0) != 0)
		_exit(12);
	close(fd);
	if (unlink(path) != 0)
		_exit(13);
	fprintf(stderr, "done\n");
}

static void
test_socket_refused(void **state)
{
	(void)state;
	char err[512], want[64];
	assert_int_equal(confined(open_socket, err, sizeof(err)), 3);
	snprintf(want, sizeof(want), "refused system call %d ", (int)SYS_socket);
	assert_non_null(strstr(err, want));
	assert_null(strstr(err, "returned"));
}

static void
test_database_sockets_allowed(void **state)
{
	(void)state;
	char err[512], want[64];
	assert_int_equal(confined_as(true, db_client, err, sizeof(err)), 0);
	assert_string_equal(err, "done\n");
	/* the same body without the database's allowance ends at its first socket */
	assert_int_equal(confined(db_client, err, sizeof(err)), 3);
	/* and the allowance is for Unix and IP sockets only */
	assert_int_equal(confined_as(true, packet_socket, err, sizeof(err)), 3);
	snprintf(want, sizeof(want), "refused system call %d ", (int)SYS_socket);
	assert_non_null(strstr(err, want));
}

static void
test_exec_refused(void **state)
{
	(void)state;
	char err[512], want[64];
	assert_int_equal(confined(run_program, err, sizeof(err)), 3);
	snprintf(want, sizeof(want), "refused system call %d ", (int)SYS_execve);
	assert_non_null(strstr(err, want));
}

static void
test_live_work_allowed(void **state)
{
	(void)state;
	char err[512];
	int rc = confined(live_work, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "child: %s", err);
	assert_int_equal(rc, 0);
	assert_string_equal(err, "done\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_socket_refused),
	    cmocka_unit_test(test_database_sockets_allowed),
	    cmocka_unit_test(test_exec_refused),
	    cmocka_unit_test(test_live_work_allowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
