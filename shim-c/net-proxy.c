/*
 * net-proxy.c - tsjail-net-proxy: the only way out of a sandbox whose
 * network is "private" with an allow list (src/net/proxy.ts starts it).
 *
 *     tsjail-net-proxy [-v] --fd=3 --profile NAME [KIND HOST PORT]...
 *
 * KIND is name, wildcard (any name below HOST, not HOST itself), ipv4 or
 * ipv6; PORT 0 is any port. The sandbox's network namespace has
 * nothing but loopback, and the proxy's listening socket was made there
 * by the shim (NETLISTEN): the monitor sends it over descriptor 3, the
 * lifeline, after the proxy wrote one byte there to say it started. The
 * proxy runs outside, as the user, in the host's network namespace: it
 * accepts, reads one request (HTTP CONNECT, an HTTP request in absolute
 * form, or SOCKS5 CONNECT; told apart by the first byte), checks the
 * host and port against the list exactly as written (names are compared
 * as names, addresses as addresses; a name is resolved here, so the
 * sandbox needs no DNS; a host that is neither an address nor a plain
 * name is refused first), connects and relays. An absolute-form request
 * is one request per connection (struct response), sent with the URL's
 * host as its Host header. A refusal is a 403 (or
 * SOCKS5 reply 2) naming the host, the port and the profile, and one line
 * on stderr. It exits when the lifeline closes (the sandbox is over);
 * each connection is a child that dies with it (PR_SET_PDEATHSIG).
 *
 * Confinement before the first client: no_new_privs and Landlock (best
 * effort) with read access only to /etc and the system's libraries (the
 * resolver reads /etc/hosts, resolv.conf, nsswitch.conf and loads NSS
 * modules), no write anywhere, no TCP bind (ABI 4), no abstract socket or
 * signal outside (ABI 6).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define HEADER_MAX 16384
#define HEADER_TIMEOUT_S 30
#define MAX_ENTRIES 1024

enum kind {
	K_NAME,
	K_WILDCARD,
	K_IPV4,
	K_IPV6
};

struct entry {
	enum kind kind;
	const char *host;
	unsigned port; /* 0: any */
	unsigned char addr[16];
};

static struct entry entries[MAX_ENTRIES];
static size_t nentries;
static const char *profile = "?";
static bool verbose;
/* --report-fd=4: one JSON object per refusal there (tsjail run --report-fd). */
static int report_fd = -1;

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	va_list ap;
	char line[512];

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	dprintf(2, "tsjail-net-proxy: %s\n", line);
}

static _Noreturn void fail(const char *what)
{
	say("%s: %s", what, strerror(errno));
	exit(125);
}

static void usage(void)
{
	say("usage: tsjail-net-proxy [-v] [--report-fd=4] --fd=3 --profile NAME "
	    "[name|wildcard|ipv4|ipv6 HOST PORT]...");
	exit(125);
}

static void parse_args(int argc, char **argv)
{
	int i = 1;

	if (i < argc && strcmp(argv[i], "-v") == 0)
		verbose = true, i++;
	if (i < argc && strcmp(argv[i], "--report-fd=4") == 0)
		report_fd = 4, i++;
	if (i >= argc || strcmp(argv[i++], "--fd=3") != 0)
		usage();
	if (i + 1 >= argc || strcmp(argv[i], "--profile") != 0)
		usage();
	profile = argv[i + 1];
	i += 2;
	if ((argc - i) % 3 != 0)
		usage();
	for (; i < argc; i += 3) {
		struct entry *e = &entries[nentries];
		char *end;
		if (nentries == MAX_ENTRIES)
			usage();
		if (strcmp(argv[i], "name") == 0)
			e->kind = K_NAME;
		else if (strcmp(argv[i], "wildcard") == 0)
			e->kind = K_WILDCARD;
		else if (strcmp(argv[i], "ipv4") == 0)
			e->kind = K_IPV4;
		else if (strcmp(argv[i], "ipv6") == 0)
			e->kind = K_IPV6;
		else
			usage();
		e->host = argv[i + 1];
		errno = 0;
		unsigned long p = strtoul(argv[i + 2], &end, 10);
		if (errno || *end || end == argv[i + 2] || p > 65535)
			usage();
		e->port = (unsigned)p;
		if ((e->kind == K_IPV4 && inet_pton(AF_INET, e->host, e->addr) != 1) ||
		    (e->kind == K_IPV6 && inet_pton(AF_INET6, e->host, e->addr) != 1))
			usage();
		nentries++;
	}
}

/* --- Confinement ------------------------------------------------------ */

static void allow_path(int rs, const char *path, uint64_t access)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = access };

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0)
		return; /* not on this system */
	if (syscall(__NR_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0U) < 0)
		fail("landlock rule");
	close(pb.parent_fd);
}

static void confine(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail("no_new_privs");
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		if (verbose)
			say("no Landlock (%s): not confined beyond no_new_privs", strerror(errno));
		return;
	}
	struct {
		uint64_t fs, net, scoped;
	} attr = {
		.fs = (1ull << (abi >= 5   ? 16
				: abi >= 3 ? 15
				: abi >= 2 ? 14
					   : 13)) -
		      1,
		.net = abi >= 4 ? 1 : 0, /* LANDLOCK_ACCESS_NET_BIND_TCP */
		.scoped = abi >= 6 ? 3 : 0,
	};
	size_t size = abi <= 3 ? 8 : abi <= 5 ? 16 : 24;
	int rs = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0U);
	if (rs < 0)
		fail("landlock");
	uint64_t read = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	allow_path(rs, "/etc", read);
	allow_path(rs, "/run/systemd/resolve", read);
	allow_path(rs, "/run/NetworkManager", read);
	allow_path(rs, "/run/resolvconf", read);
	allow_path(rs, "/usr", read | LANDLOCK_ACCESS_FS_EXECUTE);
	allow_path(rs, "/lib", read | LANDLOCK_ACCESS_FS_EXECUTE);
	allow_path(rs, "/lib64", read | LANDLOCK_ACCESS_FS_EXECUTE);
	if (syscall(__NR_landlock_restrict_self, rs, 0U) < 0)
		fail("landlock");
	close(rs);
	if (verbose)
		say("Landlock ABI %ld: read-only /etc and the libraries", abi);
}

/* --- The allow list --------------------------------------------------- */

/* Lower case, one trailing dot dropped. */
static void normalise(char *host)
{
	size_t n = strlen(host);
	for (size_t i = 0; i < n; i++)
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	if (n > 1 && host[n - 1] == '.')
		host[n - 1] = '\0';
}

/*
 * An address, or a name of letters, digits, '-' and '_' in labels of 1 to
 * 63 bytes, none starting or ending with '-' (at most 253 in all; as
 * src/profile/allow.ts takes the list's names): anything else (a '/', '@', '%', a space, an
 * empty label) is refused before the list is read, so that the host
 * compared with the list and the one the resolver is given cannot differ.
 */
static bool valid_host(const char *host)
{
	unsigned char a[16];
	size_t n = strlen(host), label = 0;

	if (inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1)
		return true;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char ch = host[i];
		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || host[i - 1] == '-' ||
			    host[i - label] == '-')
				return false;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			   ch == '_') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

static bool allowed(const char *host, unsigned port)
{
	unsigned char a4[4], a6[16];
	bool is4 = inet_pton(AF_INET, host, a4) == 1;
	bool is6 = !is4 && inet_pton(AF_INET6, host, a6) == 1;
	size_t hl = strlen(host);

	for (size_t i = 0; i < nentries; i++) {
		const struct entry *e = &entries[i];
		if (e->port && e->port != port)
			continue;
		switch (e->kind) {
		case K_NAME:
			if (!is4 && !is6 && strcmp(host, e->host) == 0)
				return true;
			break;
		case K_WILDCARD: {
			size_t el = strlen(e->host);
			if (!is4 && !is6 && hl > el + 1 && host[hl - el - 1] == '.' &&
			    strcmp(host + hl - el, e->host) == 0)
				return true;
			break;
		}
		case K_IPV4:
			if (is4 && memcmp(a4, e->addr, 4) == 0)
				return true;
			break;
		case K_IPV6:
			if (is6 && memcmp(a6, e->addr, 16) == 0)
				return true;
			break;
		}
	}
	return false;
}

static int connect_to(const char *host, unsigned port, const char **why)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG };
	struct addrinfo *res, *ai;
	char service[8];
	int err, fd = -1;

	snprintf(service, sizeof service, "%u", port);
	if ((err = getaddrinfo(host, service, &hints, &res)) != 0) {
		*why = gai_strerror(err);
		return -1;
	}
	*why = "no address";
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		*why = strerror(errno);
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* --- Relaying --------------------------------------------------------- */

static bool write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n, len -= (size_t)n;
	}
	return true;
}

/*
 * The proxy ends an absolute-form request's connection after one response:
 * a client that kept it for its next request, to another host perhaps,
 * would send that one to this request's server. So the request goes with
 * "Connection: close" instead of its own hop-by-hop headers, only its body
 * (Content-Length) follows it, and the response head gets the same
 * "Connection: close" so the client opens a new connection, checked anew,
 * for its next request.
 */
struct response {
	char buf[HEADER_MAX + 1];
	size_t got;
	bool done;
};

static bool header_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

static bool hop_by_hop(const char *line, size_t len)
{
	static const char *const names[] = { "connection", "keep-alive", "proxy-connection",
					     "proxy-authorization" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		size_t n = strlen(names[i]);
		if (len > n && line[n] == ':' && strncasecmp(line, names[i], n) == 0)
			return true;
	}
	return false;
}

/*
 * The header lines of [p, end) (each ending in CRLF, the blank line not
 * included) copied to out without the hop-by-hop ones (and their folded
 * continuation lines), then "Connection: close" and the blank line; the
 * length, or 0 when out is too small. `host` (a request's): its Host
 * header, in place of the program's (RFC 9112 3.2.2: a proxy replaces it
 * with the request target's authority, which is what the list allowed).
 */
static size_t close_headers(const char *p, const char *end, char *out, size_t cap, const char *host)
{
	static const char tail[] = "Connection: close\r\n\r\n";
	size_t n = 0;
	bool dropping = false;

	if (host) {
		int m = snprintf(out, cap, "Host: %s\r\n", host);
		if (m < 0 || (size_t)m >= cap)
			return 0;
		n = (size_t)m;
	}

	while (p < end) {
		const char *eol = strstr(p, "\r\n");
		if (!eol || eol > end)
			eol = end;
		size_t len = (size_t)(eol - p);
		bool folded = len && (p[0] == ' ' || p[0] == '\t');
		dropping = folded ? dropping
				  : hop_by_hop(p, len) || (host && header_is(p, len, "host"));
		if (!dropping) {
			if (n + len + 2 > cap)
				return 0;
			memcpy(out + n, p, len);
			memcpy(out + n + len, "\r\n", 2);
			n += len + 2;
		}
		p = eol + 2;
	}
	if (n + sizeof tail - 1 > cap)
		return 0;
	memcpy(out + n, tail, sizeof tail - 1);
	return n + sizeof tail - 1;
}

/* The value of header NAME in [p, end), or NULL. */
static const char *header_value(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);
	while (p < end) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			break;
		p = eol + 2;
	}
	return NULL;
}

/* Bytes from the server to the client, the final response head closed. */
static bool response_in(struct response *r, int c, const char *data, size_t n)
{
	static char out[HEADER_MAX + 64];

	if (r->done)
		return write_all(c, data, n);
	if (n > HEADER_MAX - r->got) {
		/* A head larger than the proxy reads: passed on as it came. */
		r->done = true;
		return write_all(c, r->buf, r->got) && write_all(c, data, n);
	}
	memcpy(r->buf + r->got, data, n);
	r->got += n;
	r->buf[r->got] = '\0';
	for (;;) {
		char *end = strstr(r->buf, "\r\n\r\n");
		if (!end)
			return true;
		size_t head = (size_t)(end + 4 - r->buf);
		/* 1xx (100 Continue, 103 Early Hints) goes as it came; the final head follows. */
		bool interim = r->got >= 12 && strncmp(r->buf, "HTTP/1.", 7) == 0 &&
			       r->buf[9] == '1' && strncmp(r->buf + 9, "101", 3) != 0;
		if (interim) {
			if (!write_all(c, r->buf, head))
				return false;
		} else {
			char *eol = strstr(r->buf, "\r\n");
			size_t line = (size_t)(eol + 2 - r->buf);
			memcpy(out, r->buf, line);
			size_t m = close_headers(eol + 2, end + 2, out + line, sizeof out - line,
						 NULL);
			if (!m || !write_all(c, out, line + m))
				return false;
			r->done = true;
		}
		memmove(r->buf, r->buf + head, r->got - head);
		r->got -= head;
		r->buf[r->got] = '\0';
		if (r->done)
			return write_all(c, r->buf, r->got);
	}
}

/*
 * Client a, server b. `budget`: how many more bytes of a go to b (-1: all,
 * until a closes); `resp`: the response head to close, or NULL.
 */
static void relay(int a, int b, long long budget, struct response *resp)
{
	static char buf[65536];
	struct pollfd p[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
	bool open_in[2] = { budget != 0, true };

	alarm(0);
	if (!open_in[0])
		p[0].fd = -1;
	while (open_in[0] || open_in[1]) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < 2; i++) {
			if (!open_in[i] || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			size_t want = sizeof buf;
			if (i == 0 && budget >= 0 && (unsigned long long)budget < want)
				want = (size_t)budget;
			ssize_t n = read(p[i].fd, buf, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				open_in[i] = false;
				p[i].fd = -1;
				if (i == 1 && resp) {
					/* The server closed: its one response is over, and with it the connection. */
					if (!resp->done)
						write_all(a, resp->buf, resp->got);
					return;
				}
				shutdown(i ? a : b, SHUT_WR);
				continue;
			}
			bool ok = i == 1 && resp ? response_in(resp, a, buf, (size_t)n)
						 : write_all(i ? a : b, buf, (size_t)n);
			if (!ok)
				return;
			if (i == 0 && budget > 0 && (budget -= n) == 0) {
				/* The request's body is over: nothing more of the client's goes to this server. */
				open_in[0] = false;
				p[0].fd = -1;
			}
		}
	}
}

static void refused_line(const char *how, const char *host, unsigned port)
{
	say("refused %s %s:%u: not in the allow list of profile %s", how, host, port, profile);
	if (report_fd < 0)
		return;
	/* The host as a JSON string: it came from the program's request. */
	char h[1024];
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)host; *p && n + 7 < sizeof h; p++) {
		if (*p == '"' || *p == '\\')
			n += (size_t)snprintf(h + n, sizeof h - n, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			n += (size_t)snprintf(h + n, sizeof h - n, "\\u%04x", *p);
		else
			h[n++] = (char)*p;
	}
	h[n] = '\0';
	dprintf(report_fd,
		"{\"kind\":\"network\",\"how\":\"%s\",\"host\":\"%s\",\"port\":%u,"
		"\"key\":\"network.allow\",\"add\":\"%s:%u\",\"hint\":\"add \\\"%s:%u\\\" to network.allow "
		"(or --allow-host %s:%u)\"}\n",
		how, h, port, h, port, h, port, h, port);
}

/* --- HTTP ------------------------------------------------------------- */

static void http_reply(int c, const char *status, const char *body)
{
	char msg[1024];
	int n = snprintf(msg, sizeof msg,
			 "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nConnection: close\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 status, strlen(body), body);
	if (n > 0)
		write_all(c, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

/* HOST[:PORT] or [V6][:PORT] into host (brackets dropped) and port. */
static bool split_authority(char *auth, char **host, unsigned *port, unsigned dflt)
{
	char *colon;

	if (auth[0] == '[') {
		char *end = strchr(auth, ']');
		if (!end)
			return false;
		*end = '\0';
		*host = auth + 1;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (!colon && end[1])
			return false;
	} else {
		*host = auth;
		colon = strrchr(auth, ':');
		if (colon)
			*colon = '\0';
	}
	*port = dflt;
	if (colon) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);
		if (*end || end == colon + 1 || p == 0 || p > 65535)
			return false;
		*port = (unsigned)p;
	}
	return **host != '\0';
}

static void http(int c)
{
	static char head[HEADER_MAX + 1];
	size_t got = 0;
	char *end = NULL;

	while (!end) {
		if (got == HEADER_MAX) {
			http_reply(c, "431 Request Header Fields Too Large",
				   "tsjail: request too large\n");
			return;
		}
		ssize_t n = read(c, head + got, HEADER_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		got += (size_t)n;
		head[got] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	size_t header_len = (size_t)(end + 4 - head);
	char *eol = strstr(head, "\r\n");
	*eol = '\0';
	char *method = head, *target = strchr(head, ' '), *version;
	if (!target || !(version = strchr(target + 1, ' '))) {
		http_reply(c, "400 Bad Request", "tsjail: not an HTTP request\n");
		return;
	}
	*target++ = '\0';
	*version++ = '\0';
	bool tunnel = strcmp(method, "CONNECT") == 0;
	char *host, *path = NULL;
	/* The request target's authority as written: the Host header sent on. */
	static char hostport[HEADER_MAX + 1];
	unsigned port;
	char body[512];
	if (tunnel) {
		if (!split_authority(target, &host, &port, 443)) {
			http_reply(c, "400 Bad Request", "tsjail: CONNECT needs HOST:PORT\n");
			return;
		}
	} else {
		if (strncasecmp(target, "http://", 7) != 0) {
			http_reply(c, "400 Bad Request",
				   "tsjail: only CONNECT and http:// requests in absolute form\n");
			return;
		}
		/* The authority ends at the path, the query or the fragment; a copy, so that the host never runs into the path. */
		static char authority[HEADER_MAX + 1];
		char *auth = target + 7;
		size_t alen = strcspn(auth, "/?#");
		memcpy(authority, auth, alen);
		authority[alen] = '\0';
		memcpy(hostport, auth, alen);
		hostport[alen] = '\0';
		if (memchr(authority, '@', alen)) {
			http_reply(
				c, "400 Bad Request",
				"tsjail: a user name in the URL is not passed on by the proxy\n");
			return;
		}
		if (!split_authority(authority, &host, &port, 80)) {
			http_reply(c, "400 Bad Request", "tsjail: bad host in the request\n");
			return;
		}
		path = auth + alen;
		path[strcspn(path, "#")] = '\0';
	}
	normalise(host);
	if (!valid_host(host)) {
		http_reply(c, "400 Bad Request",
			   "tsjail: not a host name or address in the request\n");
		return;
	}
	if (!allowed(host, port)) {
		snprintf(body, sizeof body,
			 "tsjail: %s:%u is not in the allow list of profile %s\n", host, port,
			 profile);
		http_reply(c, "403 Forbidden", body);
		refused_line(tunnel ? "CONNECT" : method, host, port);
		return;
	}
	const char *why;
	int up = connect_to(host, port, &why);
	if (up < 0) {
		snprintf(body, sizeof body, "tsjail: cannot connect to %s:%u: %s\n", host, port,
			 why);
		http_reply(c, "502 Bad Gateway", body);
		say("%s:%u: %s", host, port, why);
		return;
	}
	if (verbose)
		say("%s %s:%u", tunnel ? "CONNECT" : method, host, port);
	if (tunnel) {
		static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
		if (!write_all(c, ok, sizeof ok - 1))
			return;
		if (got > header_len && !write_all(up, head + header_len, got - header_len))
			return;
		relay(c, up, -1, NULL);
		return;
	}
	/* The request line in origin form, its headers closed (struct response), then its body alone. */
	static char out[HEADER_MAX + 64];
	const char *hdrs = eol + 2, *hend = head + header_len - 2;
	long long budget = 0;
	const char *te = header_value(hdrs, hend, "Transfer-Encoding");
	const char *cl = header_value(hdrs, hend, "Content-Length");
	if (te && strncasecmp(te, "identity", 8) != 0) {
		budget =
			-1; /* chunked: framed by the body itself; the server ends the connection */
	} else if (cl) {
		char *cend;
		errno = 0;
		budget = strtoll(cl, &cend, 10);
		if (errno || cend == cl || budget < 0 || (*cend != '\r' && *cend != ' ')) {
			http_reply(c, "400 Bad Request", "tsjail: bad Content-Length\n");
			return;
		}
	}
	int n = snprintf(out, sizeof out, "%s %s%s %s\r\n", method, path[0] == '/' ? "" : "/", path,
			 version);
	size_t m = n > 0 && (size_t)n < sizeof out
			   ? close_headers(hdrs, hend, out + n, sizeof out - (size_t)n, hostport)
			   : 0;
	if (!m || !write_all(up, out, (size_t)n + m))
		return;
	size_t extra = got - header_len;
	if (budget >= 0 && (unsigned long long)budget < extra)
		extra = (size_t)budget;
	if (extra && !write_all(up, head + header_len, extra))
		return;
	if (budget > 0)
		budget -= (long long)extra;
	static struct response resp;
	relay(c, up, budget, &resp);
}

/* --- SOCKS5 (RFC 1928, no authentication, CONNECT only) ---------------- */

static bool read_n(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r, n -= (size_t)r;
	}
	return true;
}

static void socks_reply(int c, unsigned char code)
{
	unsigned char r[10] = { 5, code, 0, 1, 0, 0, 0, 0, 0, 0 };
	write_all(c, r, sizeof r);
}

static void socks5(int c)
{
	unsigned char b[262];
	char host[256];

	if (!read_n(c, b, 2) || !read_n(c, b + 2, b[1]))
		return;
	if (!memchr(b + 2, 0, b[1])) {
		write_all(c, "\x05\xff", 2);
		return;
	}
	if (!write_all(c, "\x05\x00", 2) || !read_n(c, b, 4))
		return;
	if (b[0] != 5 || b[1] != 1) {
		socks_reply(c, 7); /* command not supported */
		return;
	}
	switch (b[3]) {
	case 1:
		if (!read_n(c, b, 4))
			return;
		inet_ntop(AF_INET, b, host, sizeof host);
		break;
	case 3:
		if (!read_n(c, b, 1) || !read_n(c, host, b[0]))
			return;
		host[b[0]] = '\0';
		if (strlen(host) != b[0] || !b[0]) {
			socks_reply(c, 1);
			return;
		}
		break;
	case 4:
		if (!read_n(c, b, 16))
			return;
		inet_ntop(AF_INET6, b, host, sizeof host);
		break;
	default:
		socks_reply(c, 8); /* address type not supported */
		return;
	}
	if (!read_n(c, b, 2))
		return;
	unsigned port = (unsigned)b[0] << 8 | b[1];
	normalise(host);
	if (!valid_host(host)) {
		socks_reply(c, 1); /* general failure: not a host name */
		say("SOCKS5: not a host name or address in the request");
		return;
	}
	if (!allowed(host, port)) {
		socks_reply(c, 2); /* connection not allowed by ruleset */
		refused_line("SOCKS5", host, port);
		return;
	}
	const char *why;
	int up = connect_to(host, port, &why);
	if (up < 0) {
		socks_reply(c, 5);
		say("%s:%u: %s", host, port, why);
		return;
	}
	if (verbose)
		say("SOCKS5 %s:%u", host, port);
	socks_reply(c, 0);
	relay(c, up, -1, NULL);
}

static void serve(int c)
{
	unsigned char first;

	alarm(HEADER_TIMEOUT_S);
	if (recv(c, &first, 1, MSG_PEEK) != 1)
		return;
	if (first == 5)
		socks5(c);
	else
		http(c);
}

/* --- Start ------------------------------------------------------------ */

static int receive_listener(void)
{
	char buf[CMSG_SPACE(sizeof(int))], tag;
	struct iovec iov = { .iov_base = &tag, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf
	};
	ssize_t n;

	while ((n = recvmsg(3, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		exit(0); /* the launch ended before the sandbox started */
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (tag != 'L' || !cm || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int))) {
		say("no listening socket from the shim");
		exit(125);
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	return fd;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	/* Children are reaped by the kernel. */
	signal(SIGCHLD, SIG_IGN);
	confine();
	if (write(3, "R", 1) != 1)
		fail("ready");
	int lfd = receive_listener();
	pid_t self = getpid();
	struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = 3, .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail("poll");
		}
		/* The lifeline: readable (EOF) or hung up when the sandbox is over. */
		if (p[1].revents)
			exit(0);
		if (!(p[0].revents & POLLIN))
			continue;
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		pid_t pid = fork();
		if (pid == 0) {
			close(lfd);
			close(3);
			if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != self)
				_exit(0);
			signal(SIGCHLD, SIG_DFL);
			serve(c);
			_exit(0);
		}
		close(c);
	}
}
