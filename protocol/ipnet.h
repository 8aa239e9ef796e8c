/* IP addresses and CIDR blocks as the detection applications list them (platform.source_ips):
 * parsing, and whether an address falls in a block. Pure code: inet_pton only, no I/O. mgmt
 * checks the list with it, the gateway enforces it on T/CEC requests. */
#ifndef EVGATE_IPNET_H
#define EVGATE_IPNET_H

/* An address or block: family AF_INET or AF_INET6, the address bytes (4 or 16 used, the rest
 * zero) and the prefix length (a bare address is a /32 or /128). */
struct ipnet {
    int family;
    unsigned char addr[16];
    int prefix;
};

/* Parses "203.0.113.10", "203.0.113.0/24", "2001:db8::1" or "2001:db8::/64" (at most 63
 * characters; the prefix in decimal without sign or leading zeros, within the family's bits).
 * Returns 0 and fills *out, or -1. Equal blocks parse equal however they are written. */
int ipnet_parse(const char *s, struct ipnet *out);

/* 1 when address `addr` (text, no prefix) lies in `block`, else 0 (also when `addr` does not
 * parse). An IPv4-mapped IPv6 address ("::ffff:127.0.0.2", what a dual-stack socket reports)
 * matches IPv4 blocks as the IPv4 address it carries. */
int ipnet_contains(const struct ipnet *block, const char *addr);

#endif
