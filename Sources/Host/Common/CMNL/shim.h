// libmnl and the rtnetlink headers MultiNICNetlink needs (Debian: libmnl-dev).
#ifndef MULTINIC_CMNL_SHIM_H
#define MULTINIC_CMNL_SHIM_H
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/fib_rules.h>
#include <linux/ip.h>
#include <sys/socket.h>

/// setns(2) without requiring _GNU_SOURCE across the module.
extern int setns(int fd, int nstype);
static inline int multinic_clone_newnet(void) { return 0x40000000; }

/// `ifi_flags & IFF_UP` without importing <net/if.h> (which clashes with <linux/if.h>).
static inline int multinic_iff_up(void) { return 0x1; }
static inline int multinic_iff_lower_up(void) { return 0x10000; }
#endif
