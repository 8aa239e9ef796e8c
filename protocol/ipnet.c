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
