/* SPDX-License-Identifier: ISC */
/*
 * rusage: runs a command and reports what it cost, for bench/run.sh.
 *
 *   rusage [-c CPU] [-o FILE] [-i MS] -- COMMAND [ARG...]
 *
 * -c pins the command (not rusage itself) to one CPU.  While the command
 * runs, its anonymous resident memory (RssAnon in /proc/PID/status) is
 * sampled every MS milliseconds (default 10; 0 turns sampling off): the
 * peak RSS that getrusage() reports also counts the pages of a file the
 * command maps, and the POI maps its capture file, so RSS alone would
 * mostly measure the capture's size.  SIGTERM, SIGINT and SIGHUP are passed
 * on to the command.
 *
 * When the command ends, one line goes to FILE (default stderr):
 *
 *   user_s U sys_s S wall_s W maxrss_kb M anon_peak_kb A status X
 *   vcsw V ivcsw I runq_s Q
 *
 * (one line).  U and S are the command's CPU seconds (wait4 rusage, so the
 * command and the children it waited for), W the wall-clock seconds from
 * fork to exit, M the peak RSS, A the largest RssAnon sampled (-1 if never
 * sampled), X the exit status, or 128 + the signal that ended it.  V and I
 * count voluntary context switches (the command waited, e.g. in poll) and
 * involuntary ones (it was preempted); Q is the time its main thread was
 * runnable but waiting for a CPU (/proc/PID/schedstat, read once it has
 * exited; -1 if unavailable).  W - U - S - Q is roughly the time it spent
 * waiting for I/O or a peer.  rusage exits with X.
 */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static volatile sig_atomic_t child_pid;

static void
forward(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run-queue wait of pid in seconds, or -1; pid must not be reaped yet. */
static double
runq_wait(pid_t pid)
{
	char path[64], buf[128], *p, *end;
	unsigned long long v;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/schedstat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "run_ns wait_ns timeslices" */
	if ((p = strchr(buf, ' ')) == NULL)
		return -1;
	errno = 0;
	v = strtoull(p + 1, &end, 10);
	if (end == p + 1 || errno != 0)
		return -1;
	return (double)v / 1e9;
}

/* RssAnon of pid in kB, or -1 if it cannot be read (e.g. it exited). */
static long
rss_anon(int fd)
{
	char buf[4096], *p;
	ssize_t n;
	long v = -1;

	if (fd == -1 || (n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nRssAnon:")) != NULL) {
		p += 9;
		while (*p == ' ' || *p == '\t')
			p++;
		v = 0;
		while (*p >= '0' && *p <= '9')
			v = v * 10 + (*p++ - '0');
	}
	return v;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: rusage [-c CPU] [-o FILE] [-i MS] -- COMMAND [ARG...]\n");
}

int
main(int argc, char **argv)
{
	uint64_t cpu = 0, interval = 10;
	bool pin = false;
	const char *opath = NULL;
	struct sigaction sa;
	struct rusage ru;
	struct pollfd pfd;
	char path[64];
	double t0, t1 = 0, rq = -1;
	siginfo_t si;
	long anon, peak = -1;
	int ch, st = 0, xs, statfd = -1, pidfd, wr;
	pid_t pid, w;
	FILE *of;

	while ((ch = getopt(argc, argv, "+c:o:i:")) != -1) {
		switch (ch) {
		case 'c':
			if (cl_parse_u64(optarg, 0, CPU_SETSIZE - 1, &cpu) !=
			    0) {
				fprintf(stderr, "rusage: bad -c\n");
				return 125;
			}
			pin = true;
			break;
		case 'o':
			opath = optarg;
			break;
		case 'i':
			if (cl_parse_u64(optarg, 0, 60000, &interval) != 0) {
				fprintf(stderr, "rusage: bad -i\n");
				return 125;
			}
			break;
		default:
			usage();
			return 125;
		}
	}
	if (optind >= argc) {
		usage();
		return 125;
	}

	t0 = mono();
	if ((pid = fork()) == -1) {
		perror("rusage: fork");
		return 125;
	}
	if (pid == 0) {
		if (pin) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET((int)cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set) != 0) {
				perror("rusage: sched_setaffinity");
				_exit(125);
			}
		}
		execvp(argv[optind], argv + optind);
		fprintf(
		    stderr, "rusage: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	child_pid = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* A pidfd turns readable when the child exits, so the wall time is
	 * not rounded up to the sampling interval. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if (interval > 0)
		statfd = open(path, O_RDONLY | O_CLOEXEC);
	for (;;) {
		/* Once it has exited, read its schedstat before reaping. */
		memset(&si, 0, sizeof(si));
		wr = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
		if (wr == -1 && errno != EINTR) {
			perror("rusage: waitid");
			return 125;
		}
		if (wr == 0 && si.si_pid == pid) {
			t1 = mono();
			rq = runq_wait(pid);
			while ((w = wait4(pid, &st, 0, &ru)) == -1 &&
			    errno == EINTR)
				;
			if (w != pid) {
				perror("rusage: wait4");
				return 125;
			}
			break;
		}
		if ((anon = rss_anon(statfd)) > peak)
			peak = anon;
		if (pidfd != -1) {
			pfd.fd = pidfd;
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, interval > 0 ? (int)interval : -1);
		} else {
			struct timespec ts = {0, 1000000};

			if (interval > 0) {
				ts.tv_sec = (time_t)(interval / 1000);
				ts.tv_nsec = (long)(interval % 1000) * 1000000;
			}
			nanosleep(&ts, NULL);
		}
	}
	child_pid = 0;
	if (statfd != -1)
		close(statfd);
	if (pidfd != -1)
		close(pidfd);

	xs = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	of = stderr;
	if (opath != NULL && (of = fopen(opath, "w")) == NULL) {
		perror(opath);
		return 125;
	}
	fprintf(of,
	    "user_s %.3f sys_s %.3f wall_s %.3f maxrss_kb %ld "
	    "anon_peak_kb %ld status %d vcsw %ld ivcsw %ld runq_s %.3f\n",
	    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
	    t1 - t0, ru.ru_maxrss, peak, xs, ru.ru_nvcsw, ru.ru_nivcsw, rq);
	if (of != stderr)
		fclose(of);
	return xs;
}
