/* Lab helper: a button press with contact bounce, driven through gpio-sim's pull file.
 * usage: bounce PULL_FILE HOLD_MS [BOUNCE_EDGES]
 * Writes pull-down (pressed, for an active-low button) with BOUNCE_EDGES extra edges in
 * the first 5 ms, holds for HOLD_MS, then releases (pull-up) with the same bounce. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void put(const char *path, const char *v) {
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, v, strlen(v)) < 0) { perror(path); exit(1); }
    close(fd);
}

static void sleep_us(long us) {
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

static void edge(const char *path, int pressed, int bounces) {
    /* Settle on the final level after `bounces` alternations spread over 5 ms. */
    for (int i = 0; i < bounces; i++) {
        put(path, ((i % 2 == 0) == pressed) ? "pull-down" : "pull-up");
        sleep_us(5000 / (bounces + 1));
    }
    put(path, pressed ? "pull-down" : "pull-up");
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: bounce PULL_FILE HOLD_MS [BOUNCE_EDGES]\n"); return 2; }
    int bounces = argc > 3 ? atoi(argv[3]) : 0;
    edge(argv[1], 1, bounces);
    sleep_us(atol(argv[2]) * 1000);
    edge(argv[1], 0, bounces);
    return 0;
}
