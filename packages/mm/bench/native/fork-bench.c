/*
 * The real kernel's side of bench/fork.bench.ts: a process with PAGES touched private anonymous
 * pages forks (timed in the parent, fork() alone), the child writes every page once (COW faults,
 * timed in the child and sent back through a pipe) and exits, then the parent unmaps the region
 * (munmap, timed). Prints one line: "fork_ns cow_ns munmap_ns", each in ns per page, the median
 * of ROUNDS rounds after one warm-up round.
 *
 * Usage: fork-bench [pages] [rounds]
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* One round: returns the three figures in ns per page. */
static void round_once(size_t pages, double out[3])
{
	size_t len = pages * PAGE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	/* 4 KiB pages only, as the model has them. */
	madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < pages; i++)
		p[i * PAGE] = 1;

	int fds[2];
	if (pipe(fds))
		die("pipe");
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	uint64_t t1 = now_ns();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		uint64_t c0 = now_ns();
		for (size_t i = 0; i < pages; i++)
			p[i * PAGE] = 2;
		uint64_t c1 = now_ns();
		uint64_t cow = c1 - c0;
		if (write(fds[1], &cow, sizeof cow) != sizeof cow)
			_exit(1);
		_exit(0);
	}
	uint64_t cow = 0;
	if (read(fds[0], &cow, sizeof cow) != sizeof cow)
		die("read");
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("child");
	close(fds[0]);
	close(fds[1]);
	uint64_t m0 = now_ns();
	if (munmap(p, len))
		die("munmap");
	uint64_t m1 = now_ns();
	out[0] = (double)(t1 - t0) / pages;
	out[1] = (double)cow / pages;
	out[2] = (double)(m1 - m0) / pages;
}

int main(int argc, char **argv)
{
	size_t pages = argc > 1 ? strtoul(argv[1], NULL, 10) : 262144;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	if (pages == 0 || rounds <= 0) {
		fprintf(stderr, "usage: %s [pages] [rounds]\n", argv[0]);
		return 2;
	}
	double warm[3];
	round_once(pages, warm);
	double *r[3];
	for (int k = 0; k < 3; k++)
		r[k] = calloc(rounds, sizeof(double));
	for (int i = 0; i < rounds; i++) {
		double o[3];
		round_once(pages, o);
		for (int k = 0; k < 3; k++)
			r[k][i] = o[k];
	}
	for (int k = 0; k < 3; k++)
		qsort(r[k], rounds, sizeof(double), cmp);
	printf("%.1f %.1f %.1f\n", r[0][rounds / 2], r[1][rounds / 2], r[2][rounds / 2]);
	return 0;
}
