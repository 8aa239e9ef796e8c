/* evsim-pile: placeholder until its issue lands (pile: issue 5, platform: issue 6). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        printf("Usage: evsim-pile\nNot implemented yet: the simulator comes with its own issue.\n");
        return 0;
    }
    fprintf(stderr, "evsim-pile: not implemented yet\n");
    return 2;
}
