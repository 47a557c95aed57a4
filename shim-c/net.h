/*
 * net.h - the sandbox's network namespace beyond loopback: NETLISTEN,
 * NETARG and NETRULE (PLAN.md steps 4a and 6a).
 */
#ifndef TSJAIL_NET_H
#define TSJAIL_NET_H

#include "plan.h"

/* Init, step 6a: send the listening socket and the namespace descriptors
 * over CTL, wait for the monitor's verdict, add the rules. Closes CTL. */
void net_init_setup(const struct plan *plan, int ctl);
/* Monitor, step 4a: hand the socket to its LIFELINE, start the helper and
 * wait until it is ready, then tell init. Closes CTL. */
void net_monitor_setup(const struct plan *plan, int ctl);

#endif
