/* IP address and CIDR block parsing and matching; see ipnet.h. */
#include "protocol/ipnet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int ipnet_parse(const char *s, struct ipnet *out)
{
    char buf[64];
    if (!s || strlen(s) >= sizeof buf)
        return -1;
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash) {
        *slash = 0;
        char *end;
        if (!slash[1] || slash[1] == '+' || slash[1] == '-')
            return -1;
        prefix = strtol(slash + 1, &end, 10);
        if (*end || (slash[1] == '0' && slash[2]))
            return -1;
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->addr) == 1 && prefix <= 32) {
        out->family = AF_INET;
        out->prefix = prefix < 0 ? 32 : (int)prefix;
        return 0;
    }
    memset(out->addr, 0, sizeof out->addr);
    if (inet_pton(AF_INET6, buf, out->addr) == 1 && prefix <= 128) {
        out->family = AF_INET6;
        out->prefix = prefix < 0 ? 128 : (int)prefix;
        return 0;
    }
    return -1;
}

/* 1 when the first `bits` bits of a and b agree. */
static int same_prefix(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xFFu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

int ipnet_contains(const struct ipnet *block, const char *addr)
{
    struct ipnet a;
    if (!block || !addr || strchr(addr, '/') || ipnet_parse(addr, &a) < 0)
        return 0;
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (a.family == AF_INET6 && block->family == AF_INET && memcmp(a.addr, v4mapped, 12) == 0) {
        memmove(a.addr, a.addr + 12, 4);
        memset(a.addr + 4, 0, 12);
        a.family = AF_INET;
    }
    if (a.family != block->family)
        return 0;
    return same_prefix(a.addr, block->addr, block->prefix);
}

/* Narrows [*a, *b) past the characters of `blanks` at both ends. */
static void trim(const char **a, const char **b, const char *blanks)
{
    while (*a < *b && strchr(blanks, **a))
        (*a)++;
    while (*b > *a && strchr(blanks, (*b)[-1]))
        (*b)--;
}

int ipnet_parse_list(const char *s, struct ipnet *out, size_t *n, char *bad, size_t badlen)
{
    *n = 0;
    if (badlen)
        bad[0] = 0;
    if (!s || !*s)
        return 0;
    for (;;) { /* every entry, the empty one after a trailing comma too */
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *a = s, *b = s + len;
        trim(&a, &b, " ");
        char entry[64];
        int ok = (size_t)(b - a) < sizeof entry && *n < IPNET_LIST_MAX;
        if (ok) {
            memcpy(entry, a, (size_t)(b - a));
            entry[b - a] = 0;
            ok = ipnet_parse(entry, &out[*n]) == 0;
        }
        if (!ok) {
            if (badlen)
                snprintf(bad, badlen, "%.*s", (int)(b - a), a);
            return -1;
        }
        (*n)++;
        if (!end)
            return 0;
        s = end + 1;
    }
}

static int trusted_addr(const struct ipnet *trusted, size_t n, const char *addr)
{
    for (size_t i = 0; i < n; i++)
        if (ipnet_contains(&trusted[i], addr))
            return 1;
    return 0;
}

void ipnet_forwarded_client(const struct ipnet *trusted, size_t n, const char *peer,
                            const char *xff, char *out, size_t len)
{
    snprintf(out, len, "%s", peer);
    if (!xff || !trusted_addr(trusted, n, peer))
        return;
    const char *end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        while (start > xff && start[-1] != ',')
            start--;
        const char *a = start, *b = end;
        trim(&a, &b, " \t");
        char entry[64];
        struct ipnet probe;
        if ((size_t)(b - a) >= sizeof entry)
            return;
        memcpy(entry, a, (size_t)(b - a));
        entry[b - a] = 0;
        if (strchr(entry, '/') || ipnet_parse(entry, &probe) != 0)
            return; /* not an address: stop at what is known, the last trusted hop */
        snprintf(out, len, "%s", entry);
        if (!trusted_addr(trusted, n, entry))
            return;
        end = start > xff ? start - 1 : xff; /* a trusted proxy: keep walking left */
    }
}
