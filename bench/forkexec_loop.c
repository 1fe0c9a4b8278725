// The floor for supervisor cost: a plain fork/exec/wait loop, the least any per-trial process can cost.
// usage: forkexec_loop [N] [program]   (default 2000 runs of /bin/true); prints runs per second.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  const char* prog = argc > 2 ? argv[2] : "/bin/true";
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      execl(prog, prog, (char*)NULL);
      _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  printf("forkexec_loop: %d runs of %s in %.3f s: %.1f runs/s (%.3f ms each)\n", n, prog, s, n / s, s * 1000 / n);
  return 0;
}
