/*
 * net.c - the sandbox's own network namespace beyond loopback (PLAN.md
 * step 6a): a listening socket handed to a helper outside (NETLISTEN), a
 * user-mode network helper started by the monitor (NETARG), and routing
 * policy rules that make destinations unreachable (NETRULE).
 *
 * Init owns the namespace, so init makes the socket and opens the
 * namespace descriptors, and passes them to the monitor over a socket pair;
 * the monitor, outside, is the one that hands the socket on or starts the
 * helper, so that the helper is the monitor's child and dies with it
 * (PR_SET_PDEATHSIG), however the sandbox ends. Init waits for the monitor's
 * verdict before it goes on, and adds the rules last: a helper such as
 * pasta adds its routes first, and the kernel checks a route's gateway
 * against the rules when the route is added, not when it is used.
 */
#include "net.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 10000

static void listen_socket(const struct plan *plan, int ctl)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)plan->listen_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 128) < 0)
		die("network", "listen on 127.0.0.1:%u", plan->listen_port);
	send_fds(ctl, 'L', &s, 1, "network");
	close(s);
	note("listening on 127.0.0.1:%u for the helper outside", plan->listen_port);
}

static void add_rule(int nl, const struct plan_netrule *r, uint32_t priority)
{
	struct {
		struct nlmsghdr nh;
		struct fib_rule_hdr frh;
		char attrs[64];
	} req;
	size_t alen = r->family == 4 ? 4 : 16;
	char text[64];

	memset(&req, 0, sizeof req);
	req.nh.nlmsg_type = RTM_NEWRULE;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	req.nh.nlmsg_seq = priority;
	req.frh.family = r->family == 4 ? AF_INET : AF_INET6;
	req.frh.dst_len = (uint8_t)r->prefix;
	if (r->action == PLAN_NETRULE_PASS) {
		req.frh.action = FR_ACT_TO_TBL;
		req.frh.table = RT_TABLE_MAIN;
	} else {
		req.frh.action = FR_ACT_UNREACHABLE;
	}
	size_t len = NLMSG_LENGTH(sizeof req.frh);
	struct rtattr *ra = (struct rtattr *)((char *)&req + NLMSG_ALIGN(len));
	ra->rta_type = FRA_PRIORITY;
	ra->rta_len = RTA_LENGTH(4);
	memcpy(RTA_DATA(ra), &priority, 4);
	len = NLMSG_ALIGN(len) + RTA_ALIGN(ra->rta_len);
	if (r->prefix) {
		ra = (struct rtattr *)((char *)&req + len);
		ra->rta_type = FRA_DST;
		ra->rta_len = (unsigned short)RTA_LENGTH(alen);
		memcpy(RTA_DATA(ra), r->addr, alen);
		len += RTA_ALIGN(ra->rta_len);
	}
	req.nh.nlmsg_len = (uint32_t)len;
	if (!inet_ntop(req.frh.family, r->addr, text, sizeof text))
		snprintf(text, sizeof text, "?");
	if (send(nl, &req, len, 0) != (ssize_t)len)
		die("network", "rule for %s/%u: send", text, r->prefix);
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
		char more[256];
	} ack;
	ssize_t n;
	while ((n = recv(nl, &ack, sizeof ack, 0)) < 0)
		if (errno != EINTR)
			die("network", "rule for %s/%u: receive", text, r->prefix);
	if ((size_t)n < NLMSG_LENGTH(sizeof ack.err) || ack.nh.nlmsg_type != NLMSG_ERROR)
		die_msg("network", "rule for %s/%u: no answer from the kernel", text, r->prefix);
	if (ack.err.error) {
		errno = -ack.err.error;
		die("network", "rule for %s/%u", text, r->prefix);
	}
	note("%s/%u %s", text, r->prefix,
	     r->action == PLAN_NETRULE_PASS ? "reachable" : "unreachable");
}

void net_init_setup(const struct plan *plan, int ctl)
{
	if (plan->listen_fd >= 0)
		listen_socket(plan, ctl);
	if (plan->nnetargs) {
		/* Our own namespaces: no ptrace check stands in the way, and
		 * the helper outside could not open them itself once we are
		 * non-dumpable. */
		int fds[2] = { open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC),
			       open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC) };
		if (fds[0] < 0 || fds[1] < 0)
			die("network", "open /proc/self/ns/user and net");
		send_fds(ctl, 'H', fds, 2, "network");
		close(fds[0]);
		close(fds[1]);
	}
	/* The monitor's verdict: the helper is ready, or it said why not. */
	char ok = 0;
	ssize_t n;
	while ((n = read(ctl, &ok, 1)) < 0 && errno == EINTR)
		;
	if (n != 1 || ok != '1')
		_exit(EXIT_SETUP);
	close(ctl);
	if (!plan->nnetrules)
		return;
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl < 0)
		die("network", "netlink socket");
	for (size_t i = 0; i < plan->nnetrules; i++)
		add_rule(nl, &plan->netrules[i], 100 + (uint32_t)i);
	close(nl);
}

static _Noreturn void exec_helper(const struct plan *plan, pid_t monitor, int userns, int netns,
				  int ready)
{
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die("network helper", "PR_SET_PDEATHSIG");
	if (getppid() != monitor)
		_exit(EXIT_SETUP);
	/* Its own session: a ^C on the terminal is the sandbox's, and the
	 * monitor's death (SIGKILL above) ends it. */
	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int fds[3] = { fcntl(userns, F_DUPFD, 10), fcntl(netns, F_DUPFD, 10),
		       fcntl(ready, F_DUPFD, 10) };
	int null = open("/dev/null", O_RDWR);
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0 || null < 0 || dup2(null, 0) < 0 ||
	    dup2(null, 1) < 0)
		die("network helper", "descriptors");
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], 3 + i) < 0)
			die("network helper", "descriptor %d", 3 + i);
	if (syscall(NR_close_range, 6U, ~0U, 0U) < 0)
		die("network helper", "close_range");
	execv(plan->netargv[0], (char *const *)plan->netargv);
	die("network helper", "execute %s", plan->netargv[0]);
}

/* Wait for a line on READY (pasta's --pid file), or its end. */
static int wait_ready(int ready)
{
	struct pollfd pfd = { .fd = ready, .events = POLLIN };
	char buf[64];
	size_t got = 0;

	for (;;) {
		int r = poll(&pfd, 1, READY_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t n = read(ready, buf + got, sizeof buf - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (memchr(buf + got, '\n', (size_t)n))
			return 0;
		got += (size_t)n;
		if (got == sizeof buf)
			return -1;
	}
}

void net_monitor_setup(const struct plan *plan, int ctl)
{
	if (plan->listen_fd >= 0) {
		int s;
		recv_fds(ctl, 'L', &s, 1, "network");
		send_fds(plan->listen_fd, 'L', &s, 1, "network");
		close(s);
	}
	if (plan->nnetargs) {
		int ns[2], ready[2];
		recv_fds(ctl, 'H', ns, 2, "network");
		if (pipe2(ready, O_CLOEXEC) < 0)
			die("network helper", "pipe");
		pid_t monitor = getpid();
		pid_t pid = fork();
		if (pid < 0)
			die("network helper", "fork");
		if (pid == 0)
			exec_helper(plan, monitor, ns[0], ns[1], ready[1]);
		close(ready[1]);
		close(ns[0]);
		close(ns[1]);
		if (wait_ready(ready[0]) < 0) {
			kill(pid, SIGKILL);
			die_msg("network helper",
				"%s was not ready within %d ms (it said why above)",
				plan->netargv[0], READY_TIMEOUT_MS);
		}
		close(ready[0]);
		note("network helper %s (pid %d) ready", plan->netargv[0], (int)pid);
	}
	if (write(ctl, "1", 1) != 1)
		die("network", "tell init");
	close(ctl);
}
