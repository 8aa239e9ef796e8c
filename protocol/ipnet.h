/* IP addresses and CIDR blocks as the detection applications list them (platform.source_ips):
 * parsing, and whether an address falls in a block. Pure code: inet_pton only, no I/O. mgmt
 * checks the list with it, the gateway enforces it on T/CEC requests. */
#ifndef EVGATE_IPNET_H
#define EVGATE_IPNET_H

#include <stddef.h>

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

/* The most blocks a list of trusted proxies holds (mgmt_trusted_proxies). */
#define IPNET_LIST_MAX 16

/* Parses a comma-separated list of addresses or blocks ("" = none; spaces around entries are
 * allowed) into out[0..*n). Returns 0, or -1 with the failing entry copied to bad (at most
 * badlen bytes) when an entry does not parse or there are more than IPNET_LIST_MAX. */
int ipnet_parse_list(const char *s, struct ipnet *out, size_t *n, char *bad, size_t badlen);

/* The client behind reverse proxies. `peer` is the connection's address; when it lies in one
 * of trusted[0..n), X-Forwarded-For (`xff`, may be NULL) is walked from its right end past the
 * trusted proxies, and the first address that is not one is the client. Writes the client's
 * address to out (the peer when it is not trusted, there is no header, or the entry found does
 * not parse as an address: a header a client forged to the left is never reached). */
void ipnet_forwarded_client(const struct ipnet *trusted, size_t n, const char *peer,
                            const char *xff, char *out, size_t len);

#endif
