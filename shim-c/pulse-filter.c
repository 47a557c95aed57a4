/*
 * tsjail-pulse-filter - a filter for the PulseAudio native protocol.
 *
 *   tsjail-pulse-filter [-v] --fd=N LISTEN SERVER [COOKIE]
 *
 * It listens on the unix socket LISTEN (shown inside the sandbox as the
 * sound server), opens one connection to the real server SERVER per client
 * and relays the protocol's frames (a 20-byte descriptor, then a packet or
 * audio data) both ways, after looking at every command the client sends.
 * A fixed allowlist passes what playing and recording need (authenticate,
 * name the client, create, control and delete its own streams, read the
 * server's state, subscribe to events, the volume of its own streams); every
 * other command - loading or unloading modules, the sample cache, default
 * devices, device volumes, cards, ports, moving or killing other clients'
 * streams, extensions, object messages, making the server exit - is
 * answered with PA_ERR_ACCESS and never reaches the server. The allowlist
 * is documented in SECURITY.md and tsjail-profile(5); it is not policy a
 * profile may change.
 *
 * The server never sees anything a module could turn into a file path or
 * code: property lists (in every command) may not carry "filter.*" keys,
 * through which module-filter-apply loads a module with arguments taken
 * from the stream (filter.want=echo-cancel alone stays allowed). Shared
 * memory is switched off at authentication (the flag bits of the version
 * are cleared both ways), so audio travels through this socket and no
 * descriptor or shared-memory name is ever passed: a frame with shared-memory
 * flags, a descriptor, or a srbchannel/memfd command ends the connection.
 * The client's cookie is replaced by COOKIE (the real one); the sandbox
 * only has a placeholder.
 *
 * Lifetime: once LISTEN accepts connections the filter writes one byte to
 * descriptor N, and it exits as soon as the other end of N closes (the
 * shim's monitor holds it for exactly the sandbox's lifetime, a LIFELINE
 * record of shim-c/PLAN.md), closing every connection.
 *
 * Confinement: before it writes that byte the filter takes away what it
 * no longer needs (confine() below: a seccomp allowlist, Landlock without
 * filesystem rights where the kernel has it).
 *
 * C11, libc only, single-threaded around poll(2). Nothing here trusts the
 * client: every length is checked before it is used.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DESC_SIZE 20
/* The fuzz build lowers it: a 16 MiB buffer per frame is slow under ASan. */
#ifndef FRAME_MAX
#define FRAME_MAX (16u * 1024 * 1024) /* pstream.c's FRAME_SIZE_MAX_ALLOW */
#endif
#define QUEUE_HIGH (1u << 20) /* stop reading a side beyond this */
/* A frame's buffer starts at most this big and doubles as its bytes arrive
 * (up to the length its descriptor gives): a peer that announces 16 MiB and
 * sends little costs little. libpulse sends audio in frames of at most
 * 64 KiB (pstream.c's FRAME_SIZE_MAX_USE), so one step is the usual case.
 * The fuzz build starts small, so that its frames grow several times. */
#ifndef PAYLOAD_FIRST
#define PAYLOAD_FIRST (64u * 1024)
#endif
#define MAX_CONNS 32
#define MAX_PENDING 64
#define MAX_OWN 256
#define COOKIE_LEN 256

#define CHANNEL_PACKET 0xffffffffu
#define FLAG_SHMMASK 0xff000000u
#define VERSION_MASK 0x0000ffffu

/* Command numbers, src/pulsecore/native-common.h (protocol version 35). */
enum {
	CMD_ERROR = 0,
	CMD_REPLY = 2,
	CMD_CREATE_PLAYBACK_STREAM = 3,
	CMD_CREATE_RECORD_STREAM = 5,
	CMD_AUTH = 8,
	CMD_SET_SINK_INPUT_VOLUME = 37,
	CMD_SET_SINK_INPUT_MUTE = 69,
	CMD_SET_SOURCE_OUTPUT_VOLUME = 98,
	CMD_SET_SOURCE_OUTPUT_MUTE = 99,
	CMD_ENABLE_SRBCHANNEL = 101,
	CMD_DISABLE_SRBCHANNEL = 102,
	CMD_REGISTER_MEMFD_SHMID = 103,
};
#define PA_ERR_ACCESS 1

/*
 * What a client may send. ALLOW: forwarded after the property-list check.
 * OWN_SINK_INPUT / OWN_SOURCE_OUTPUT: also only for a stream index this
 * connection created. Anything absent (0) is refused.
 */
enum {
	REFUSE = 0,
	ALLOW,
	OWN_SINK_INPUT,
	OWN_SOURCE_OUTPUT
};
static const unsigned char allowed[] = {
	[3] = ALLOW,              /* CREATE_PLAYBACK_STREAM */
	[4] = ALLOW,              /* DELETE_PLAYBACK_STREAM */
	[5] = ALLOW,              /* CREATE_RECORD_STREAM */
	[6] = ALLOW,              /* DELETE_RECORD_STREAM */
	[9] = ALLOW,              /* SET_CLIENT_NAME */
	[10] = ALLOW,             /* LOOKUP_SINK */
	[11] = ALLOW,             /* LOOKUP_SOURCE */
	[12] = ALLOW,             /* DRAIN_PLAYBACK_STREAM */
	[13] = ALLOW,             /* STAT */
	[14] = ALLOW,             /* GET_PLAYBACK_LATENCY */
	[18] = ALLOW,             /* PLAY_SAMPLE (one already in the cache, by name) */
	[20] = ALLOW,             /* GET_SERVER_INFO */
	[21] = ALLOW,             /* GET_SINK_INFO */
	[22] = ALLOW,             /* GET_SINK_INFO_LIST */
	[23] = ALLOW,             /* GET_SOURCE_INFO */
	[24] = ALLOW,             /* GET_SOURCE_INFO_LIST */
	[25] = ALLOW,             /* GET_MODULE_INFO */
	[26] = ALLOW,             /* GET_MODULE_INFO_LIST */
	[27] = ALLOW,             /* GET_CLIENT_INFO */
	[28] = ALLOW,             /* GET_CLIENT_INFO_LIST */
	[29] = ALLOW,             /* GET_SINK_INPUT_INFO */
	[30] = ALLOW,             /* GET_SINK_INPUT_INFO_LIST */
	[31] = ALLOW,             /* GET_SOURCE_OUTPUT_INFO */
	[32] = ALLOW,             /* GET_SOURCE_OUTPUT_INFO_LIST */
	[33] = ALLOW,             /* GET_SAMPLE_INFO */
	[34] = ALLOW,             /* GET_SAMPLE_INFO_LIST */
	[35] = ALLOW,             /* SUBSCRIBE */
	[37] = OWN_SINK_INPUT,    /* SET_SINK_INPUT_VOLUME */
	[41] = ALLOW,             /* CORK_PLAYBACK_STREAM */
	[42] = ALLOW,             /* FLUSH_PLAYBACK_STREAM */
	[43] = ALLOW,             /* TRIGGER_PLAYBACK_STREAM */
	[46] = ALLOW,             /* SET_PLAYBACK_STREAM_NAME */
	[47] = ALLOW,             /* SET_RECORD_STREAM_NAME */
	[57] = ALLOW,             /* GET_RECORD_LATENCY */
	[58] = ALLOW,             /* CORK_RECORD_STREAM */
	[59] = ALLOW,             /* FLUSH_RECORD_STREAM */
	[60] = ALLOW,             /* PREBUF_PLAYBACK_STREAM */
	[69] = OWN_SINK_INPUT,    /* SET_SINK_INPUT_MUTE */
	[72] = ALLOW,             /* SET_PLAYBACK_STREAM_BUFFER_ATTR */
	[73] = ALLOW,             /* SET_RECORD_STREAM_BUFFER_ATTR */
	[74] = ALLOW,             /* UPDATE_PLAYBACK_STREAM_SAMPLE_RATE */
	[75] = ALLOW,             /* UPDATE_RECORD_STREAM_SAMPLE_RATE */
	[80] = ALLOW,             /* UPDATE_RECORD_STREAM_PROPLIST */
	[81] = ALLOW,             /* UPDATE_PLAYBACK_STREAM_PROPLIST */
	[82] = ALLOW,             /* UPDATE_CLIENT_PROPLIST */
	[83] = ALLOW,             /* REMOVE_RECORD_STREAM_PROPLIST */
	[84] = ALLOW,             /* REMOVE_PLAYBACK_STREAM_PROPLIST */
	[85] = ALLOW,             /* REMOVE_CLIENT_PROPLIST */
	[88] = ALLOW,             /* GET_CARD_INFO */
	[89] = ALLOW,             /* GET_CARD_INFO_LIST */
	[98] = OWN_SOURCE_OUTPUT, /* SET_SOURCE_OUTPUT_VOLUME */
	[99] = OWN_SOURCE_OUTPUT, /* SET_SOURCE_OUTPUT_MUTE */
};

static int verbose;
static uint8_t cookie[COOKIE_LEN];
static int have_cookie;
static struct sockaddr_un server_addr;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	if (!verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("tsjail-pulse-filter: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- a tagstruct reader (src/pulsecore/tagstruct.c's format) ---- */

struct tags {
	const uint8_t *p;
	size_t len, at;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int skip(struct tags *t, size_t n)
{
	if (t->len - t->at < n)
		return -1;
	t->at += n;
	return 0;
}

static int get_u32(struct tags *t, uint32_t *v)
{
	if (t->len - t->at < 5 || t->p[t->at] != 'L')
		return -1;
	*v = be32(t->p + t->at + 1);
	t->at += 5;
	return 0;
}

/* A string ('t', NUL-terminated) or NULL ('N'); *s is NULL for the latter. */
static int get_string(struct tags *t, const char **s)
{
	if (t->at >= t->len)
		return -1;
	if (t->p[t->at] == 'N') {
		t->at++;
		*s = NULL;
		return 0;
	}
	if (t->p[t->at] != 't')
		return -1;
	const uint8_t *start = t->p + t->at + 1;
	const uint8_t *nul = memchr(start, 0, t->len - t->at - 1);
	if (!nul)
		return -1;
	*s = (const char *)start;
	t->at += (size_t)(nul - start) + 2;
	return 0;
}

/*
 * A property list ('P' already read): key, length, value, ... up to a NULL
 * key. Returns -1 when malformed, 1 when a key is one the filter refuses.
 */
static int check_proplist(struct tags *t)
{
	int bad = 0;
	for (;;) {
		const char *key;
		uint32_t n;
		if (get_string(t, &key) < 0)
			return -1;
		if (!key)
			return bad;
		if (get_u32(t, &n) < 0 || t->len - t->at < 5 || t->p[t->at] != 'x' ||
		    be32(t->p + t->at + 1) != n)
			return -1;
		t->at += 5;
		const uint8_t *val = t->p + t->at;
		if (skip(t, n) < 0)
			return -1;
		/* module-filter-apply loads "module-<filter.apply>" with the
		 * arguments of "filter.apply.<name>.parameters"; module-filter-
		 * heuristics copies filter.want into filter.apply. */
		if (strncmp(key, "filter.", 7) == 0) {
			static const char echo[] = "echo-cancel"; /* with its NUL */
			if (!(strcmp(key, "filter.want") == 0 && n == sizeof echo &&
			      memcmp(val, echo, sizeof echo) == 0)) {
				say("refused the property %s", key);
				bad = 1;
			}
		}
	}
}

/*
 * Walk every value of a command; 0 when all are well-formed and no property
 * list has a refused key, 1 for a refused key, -1 when malformed.
 */
static int check_values(struct tags *t)
{
	int bad = 0;
	while (t->at < t->len) {
		uint8_t tag = t->p[t->at++];
		int r = 0;
		switch (tag) {
		case 't':
			t->at--;
			{
				const char *s;
				r = get_string(t, &s);
			}
			break;
		case 'N':
		case '1':
		case '0':
			break;
		case 'L':
		case 'V':
			r = skip(t, 4);
			break;
		case 'B':
			r = skip(t, 1);
			break;
		case 'R':
		case 'r':
		case 'U':
		case 'T':
			r = skip(t, 8);
			break;
		case 'a': /* format, channels, rate */
			r = skip(t, 6);
			break;
		case 'x':
			if (t->len - t->at < 4)
				return -1;
			{
				uint32_t n = be32(t->p + t->at);
				t->at += 4;
				r = skip(t, n);
			}
			break;
		case 'm': /* channel count, then one byte each */
			if (t->at >= t->len)
				return -1;
			r = skip(t, 1 + (size_t)t->p[t->at]);
			break;
		case 'v': /* channel count, then a u32 each */
			if (t->at >= t->len)
				return -1;
			r = skip(t, 1 + 4 * (size_t)t->p[t->at]);
			break;
		case 'P':
			r = check_proplist(t);
			break;
		case 'f': /* encoding (a tagged u8), then a tagged proplist */
			if (t->len - t->at < 3 || t->p[t->at] != 'B' || t->p[t->at + 2] != 'P')
				return -1;
			t->at += 3;
			r = check_proplist(t);
			break;
		default:
			return -1;
		}
		if (r < 0)
			return -1;
		if (r > 0)
			bad = 1;
	}
	return bad;
}

/* ---- connections ---- */

struct queue {
	uint8_t *p;
	size_t len, off, cap;
};

struct side {
	int fd;
	uint8_t desc[DESC_SIZE];
	size_t have; /* bytes of the current frame read so far */
	uint8_t *payload;
	uint32_t plen;    /* the frame's length (its descriptor's) */
	uint32_t pcap;    /* what payload holds room for so far, at most plen */
	struct queue out; /* what is waiting to be written to this side */
};

enum {
	PEND_AUTH = 1,
	PEND_PLAYBACK,
	PEND_RECORD
};

struct conn {
	int used;
	struct side client, server;
	int authed;
	int tagged; /* a command was seen: last_tag is valid */
	uint32_t last_tag;
	struct {
		uint32_t tag;
		int kind;
	} pending[MAX_PENDING];
	uint32_t own_in[MAX_OWN], own_out[MAX_OWN];
	unsigned n_in, n_out; /* counts, used as rings once full */
};

static struct conn conns[MAX_CONNS];

static int queue_add(struct queue *q, const uint8_t *d, size_t n)
{
	if (q->off > 0 && q->off == q->len)
		q->off = q->len = 0;
	if (q->cap - q->len < n) {
		if (q->off > 0) {
			memmove(q->p, q->p + q->off, q->len - q->off);
			q->len -= q->off;
			q->off = 0;
		}
		if (q->cap - q->len < n) {
			size_t cap = q->cap ? q->cap : 65536;
			while (cap - q->len < n)
				cap *= 2;
			uint8_t *p = realloc(q->p, cap);
			if (!p)
				return -1;
			q->p = p;
			q->cap = cap;
		}
	}
	memcpy(q->p + q->len, d, n);
	q->len += n;
	return 0;
}

static size_t queued(const struct queue *q)
{
	return q->len - q->off;
}

static void side_free(struct side *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->payload);
	free(s->out.p);
	memset(s, 0, sizeof *s);
	s->fd = -1;
}

static int flush(struct side *s)
{
	while (queued(&s->out) > 0) {
		ssize_t w = send(s->fd, s->out.p + s->out.off, queued(&s->out),
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		s->out.off += (size_t)w;
	}
	return 0;
}

static void conn_close(struct conn *c, const char *why)
{
	if (why)
		say("closed a connection: %s", why);
	/* What was already accepted for the other side still goes out. */
	(void)flush(&c->client);
	(void)flush(&c->server);
	side_free(&c->client);
	side_free(&c->server);
	memset(c, 0, sizeof *c);
	c->client.fd = c->server.fd = -1;
}

/* Queue a frame (descriptor + payload) to side `to`. */
static int send_frame(struct side *to, const uint8_t *desc, const uint8_t *payload, uint32_t n)
{
	if (queue_add(&to->out, desc, DESC_SIZE) < 0 || queue_add(&to->out, payload, n) < 0)
		return -1;
	return 0;
}

/* Answer command `tag` of the client with ERROR(PA_ERR_ACCESS). */
static int refuse(struct conn *c, uint32_t cmd, uint32_t tag)
{
	uint8_t desc[DESC_SIZE] = { 0 };
	uint8_t p[15];
	say("refused command %u", cmd);
	put_be32(desc, sizeof p);
	put_be32(desc + 4, CHANNEL_PACKET);
	p[0] = 'L';
	put_be32(p + 1, CMD_ERROR);
	p[5] = 'L';
	put_be32(p + 6, tag);
	p[10] = 'L';
	put_be32(p + 11, PA_ERR_ACCESS);
	return send_frame(&c->client, desc, p, sizeof p);
}

static int is_own(const uint32_t *set, unsigned n, uint32_t idx)
{
	unsigned k = n < MAX_OWN ? n : MAX_OWN;
	for (unsigned i = 0; i < k; i++)
		if (set[i] == idx)
			return 1;
	return 0;
}

static void add_pending(struct conn *c, uint32_t tag, int kind, int *ok)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (!c->pending[i].kind) {
			c->pending[i].tag = tag;
			c->pending[i].kind = kind;
			*ok = 1;
			return;
		}
	*ok = 0;
}

/* A whole packet from the client: 0 handled, -1 end the connection. */
static int client_packet(struct conn *c, uint8_t *p, uint32_t n)
{
	struct tags t = { p, n, 0 };
	uint32_t cmd, tag;
	if (get_u32(&t, &cmd) < 0 || get_u32(&t, &tag) < 0)
		return -1;
	/* libpulse numbers its commands upwards; a reused tag could make a
	 * reply to one command pass for the reply to another. */
	if (c->tagged && tag <= c->last_tag)
		return -1;
	c->tagged = 1;
	c->last_tag = tag;

	if (!c->authed) {
		/* AUTH first: version, a 256-byte cookie, nothing else. */
		uint32_t version;
		size_t at = t.at;
		if (cmd != CMD_AUTH || get_u32(&t, &version) < 0 || n - t.at != 5 + COOKIE_LEN ||
		    p[t.at] != 'x' || be32(p + t.at + 1) != COOKIE_LEN)
			return -1;
		/* No shared memory, no memfd, no flag of a later version. */
		put_be32(p + at + 1, version & VERSION_MASK);
		if (have_cookie)
			memcpy(p + t.at + 5, cookie, COOKIE_LEN);
		int ok;
		add_pending(c, tag, PEND_AUTH, &ok);
		c->authed = 1;
		return 0; /* forwarded by the caller */
	}

	int rule = cmd < sizeof allowed ? allowed[cmd] : REFUSE;
	if (rule == OWN_SINK_INPUT || rule == OWN_SOURCE_OUTPUT) {
		struct tags a = t;
		uint32_t idx;
		if (get_u32(&a, &idx) < 0)
			rule = REFUSE;
		else if (rule == OWN_SINK_INPUT && !is_own(c->own_in, c->n_in, idx))
			rule = REFUSE;
		else if (rule == OWN_SOURCE_OUTPUT && !is_own(c->own_out, c->n_out, idx))
			rule = REFUSE;
	}
	if (rule != REFUSE) {
		int r = check_values(&t);
		if (r < 0)
			return -1;
		if (r > 0)
			rule = REFUSE;
	}
	if (rule != REFUSE &&
	    (cmd == CMD_CREATE_PLAYBACK_STREAM || cmd == CMD_CREATE_RECORD_STREAM)) {
		int ok;
		add_pending(c, tag, cmd == CMD_CREATE_PLAYBACK_STREAM ? PEND_PLAYBACK : PEND_RECORD,
			    &ok);
		if (!ok)
			rule = REFUSE;
	}
	if (rule == REFUSE)
		return refuse(c, cmd, tag) < 0 ? -1 : 1;
	return 0;
}

/* A whole packet from the server: 0 forward, -1 end the connection. */
static int server_packet(struct conn *c, uint8_t *p, uint32_t n)
{
	struct tags t = { p, n, 0 };
	uint32_t cmd, tag;
	if (get_u32(&t, &cmd) < 0 || get_u32(&t, &tag) < 0)
		return -1;
	if (cmd == CMD_ENABLE_SRBCHANNEL || cmd == CMD_DISABLE_SRBCHANNEL ||
	    cmd == CMD_REGISTER_MEMFD_SHMID)
		return -1;
	if (cmd != CMD_REPLY && cmd != CMD_ERROR)
		return 0;
	for (int i = 0; i < MAX_PENDING; i++) {
		if (!c->pending[i].kind || c->pending[i].tag != tag)
			continue;
		int kind = c->pending[i].kind;
		c->pending[i].kind = 0;
		if (cmd != CMD_REPLY)
			return 0;
		uint32_t a, b;
		size_t at = t.at;
		if (get_u32(&t, &a) < 0)
			return -1;
		if (kind == PEND_AUTH) {
			put_be32(p + at + 1, a & VERSION_MASK);
		} else {
			if (get_u32(&t, &b) < 0)
				return -1;
			if (kind == PEND_PLAYBACK)
				c->own_in[c->n_in++ % MAX_OWN] = b;
			else
				c->own_out[c->n_out++ % MAX_OWN] = b;
			if (c->n_in >= 2 * MAX_OWN)
				c->n_in -= MAX_OWN;
			if (c->n_out >= 2 * MAX_OWN)
				c->n_out -= MAX_OWN;
		}
		return 0;
	}
	return 0;
}

/* Where the next bytes of `from`'s current frame go, and how many are due. */
static void side_want(struct side *from, uint8_t **dst, size_t *want)
{
	if (from->have < DESC_SIZE) {
		*dst = from->desc + from->have;
		*want = DESC_SIZE - from->have;
	} else {
		*dst = from->payload + (from->have - DESC_SIZE);
		*want = from->pcap - (from->have - DESC_SIZE);
	}
}

/*
 * `r` more bytes (at most what side_want asked for) have arrived where
 * side_want said: check the descriptor once it is whole, and a whole frame
 * is judged and queued to `to`. 0 to go on, 1 after a whole frame, -1 to
 * end the connection for a breach of the protocol or of the filter's rules.
 * This and what it calls are all the filter does with what a side sends;
 * fuzz/pulse-fuzz.c drives them from a buffer.
 */
/* Room for at least one more byte of the frame (the buffer doubles). */
static int payload_grow(struct side *s)
{
	uint32_t cap = s->pcap ? s->pcap : PAYLOAD_FIRST / 2;
	cap = cap > s->plen / 2 ? s->plen : cap * 2;
	uint8_t *p = realloc(s->payload, cap);
	if (!p)
		return -1;
	s->payload = p;
	s->pcap = cap;
	return 0;
}

static int side_got(struct conn *c, struct side *from, struct side *to, int from_client, size_t r)
{
	from->have += r;
	if (from->have == DESC_SIZE) {
		uint32_t len = be32(from->desc), chan = be32(from->desc + 4),
			 flags = be32(from->desc + 16);
		if (len == 0 || len > FRAME_MAX)
			return -1;
		if (flags & FLAG_SHMMASK)
			return -1; /* shared memory is off */
		if (chan == CHANNEL_PACKET && flags != 0)
			return -1;
		from->plen = len;
		if (payload_grow(from) < 0)
			return -1;
	}
	if (from->have < DESC_SIZE || from->have < DESC_SIZE + from->plen) {
		if (from->have == DESC_SIZE + from->pcap && payload_grow(from) < 0)
			return -1;
		return 0;
	}
	/* A whole frame. */
	int verdict = 0;
	if (be32(from->desc + 4) == CHANNEL_PACKET)
		verdict = from_client ? client_packet(c, from->payload, from->plen)
				      : server_packet(c, from->payload, from->plen);
	else if (from_client && !c->authed)
		verdict = -1;
	if (verdict < 0)
		return -1;
	if (verdict == 0 && send_frame(to, from->desc, from->payload, from->plen) < 0)
		return -1;
	free(from->payload);
	from->payload = NULL;
	from->plen = from->pcap = 0;
	from->have = 0;
	return 1;
}

/*
 * Read what is there from `from`; whole frames are checked and queued to
 * `to`. 0 to go on, -1 to end the connection for a breach of the protocol
 * (or of the filter's rules), -2 when `from` has gone.
 */
static int pump(struct conn *c, struct side *from, struct side *to, int from_client)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		uint8_t *dst;
		size_t want;
		side_want(from, &dst, &want);
		/* recv without a control buffer: the kernel closes any
		 * descriptor passed along, none ever reaches the other side. */
		ssize_t r = recv(from->fd, dst, want, MSG_DONTWAIT);
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -2;
		if (r == 0)
			return -2;
		int v = side_got(c, from, to, from_client, (size_t)r);
		if (v < 0)
			return -1;
		if (v > 0 && (queued(&to->out) > QUEUE_HIGH || queued(&from->out) > QUEUE_HIGH))
			return 0;
	}
	return 0;
}

/* The rest runs the sockets; fuzz/pulse-fuzz.c includes this file without it. */
#ifndef PULSE_FILTER_NO_MAIN
static void accept_one(int listener)
{
	int cfd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	struct conn *c = NULL;
	for (int i = 0; i < MAX_CONNS; i++)
		if (!conns[i].used) {
			c = &conns[i];
			break;
		}
	if (!c) {
		say("too many connections");
		close(cfd);
		return;
	}
	int sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sfd < 0 || connect(sfd, (struct sockaddr *)&server_addr, sizeof server_addr) < 0) {
		say("cannot connect to %s: %s", server_addr.sun_path, strerror(errno));
		if (sfd >= 0)
			close(sfd);
		close(cfd);
		return;
	}
	memset(c, 0, sizeof *c);
	c->used = 1;
	c->client.fd = cfd;
	c->server.fd = sfd;
}

static _Noreturn void fail(const char *what)
{
	fprintf(stderr, "tsjail-pulse-filter: %s: %s\n", what, strerror(errno));
	exit(125);
}

static void usage(void)
{
	fputs("usage: tsjail-pulse-filter [-v] --fd=N LISTEN SERVER [COOKIE]\n", stderr);
	exit(125);
}

static int set_path(struct sockaddr_un *a, const char *p)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (p[0] != '/' || strlen(p) >= sizeof a->sun_path)
		return -1;
	memcpy(a->sun_path, p, strlen(p));
	return 0;
}

/*
 * Confinement, once the filter listens and holds what it needs (the real
 * server's address, the cookie in memory, the lifeline). From then on it
 * only accepts, connects to the server, relays and exits. The policy is
 * fixed here, like the command allowlist: this is tsjail's own program,
 * not something a profile shapes.
 *
 * Landlock (best effort, whatever ABI the kernel has): a ruleset that
 * handles every filesystem right and grants none, so no file or directory
 * can be opened, created or changed (ABI 1-3, 5), no TCP bind or connect
 * (ABI 4), and no abstract unix socket or signal outside (ABI 6). A kernel
 * without Landlock leaves only the seccomp allowlist.
 *
 * seccomp (required, or the filter does not start): an allowlist of the
 * calls the loop makes; anything else kills the filter (every connection
 * ends; the sandbox loses sound, nothing else). socket(2) only for AF_UNIX,
 * mmap(2) never executable; no open, exec, mprotect, ptrace, kill. What
 * it cannot take away: connect(2) takes an address seccomp cannot read,
 * and Landlock does not govern pathname unix sockets, so a filter that was
 * taken over could still connect to other unix sockets of the user.
 */
#define LL_CREATE_RULESET_VERSION 1u
struct ll_ruleset_attr {
	uint64_t handled_access_fs;  /* ABI 1 */
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

static void landlock_nothing(void)
{
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	if (abi < 1) {
		say("no Landlock (%s): seccomp only", strerror(errno));
		return;
	}
	struct ll_ruleset_attr attr = {
		/* 13 rights in ABI 1, REFER in 2, TRUNCATE in 3, IOCTL_DEV in 5 */
		.handled_access_fs = (1ull << (abi >= 5   ? 16
					       : abi >= 3 ? 15
					       : abi >= 2 ? 14
							  : 13)) -
				     1,
		.handled_access_net = abi >= 4 ? 3 : 0, /* bind and connect TCP */
		.scoped = abi >= 6 ? 3 : 0,             /* abstract unix sockets, signals */
	};
	size_t size = abi <= 3 ? 8 : abi <= 5 ? 16 : 24;
	int rs = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0U);
	if (rs < 0 || syscall(__NR_landlock_restrict_self, rs, 0U) < 0)
		fail("landlock");
	close(rs);
	say("Landlock ABI %ld: no filesystem rights", abi);
}

#if defined(__x86_64__)
#define FILTER_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FILTER_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef FILTER_ARCH
#define ALLOW_NR(nr)                                     \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define ARG_LO(i) offsetof(struct seccomp_data, args[i]) /* little-endian: the low half */
#define KILL BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)
#endif

static void seccomp_allowlist(void)
{
#ifdef FILTER_ARCH
	struct sock_filter prog[] = {
		LOAD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, 1, 0),
		KILL,
		LOAD(nr),
#ifdef __x86_64__
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1), /* x32 */
		KILL,
#endif
#ifdef __NR_poll
		ALLOW_NR(__NR_poll),
#endif
		ALLOW_NR(__NR_ppoll),
		ALLOW_NR(__NR_recvfrom),
		ALLOW_NR(__NR_sendto),
		ALLOW_NR(__NR_accept4),
		ALLOW_NR(__NR_connect),
		ALLOW_NR(__NR_close),
		ALLOW_NR(__NR_write), /* messages on stderr */
		ALLOW_NR(__NR_brk),
		ALLOW_NR(__NR_munmap),
		ALLOW_NR(__NR_mremap),
		ALLOW_NR(__NR_madvise),
		ALLOW_NR(__NR_clock_gettime),
		ALLOW_NR(__NR_rt_sigreturn),
		ALLOW_NR(__NR_restart_syscall),
		ALLOW_NR(__NR_exit),
		ALLOW_NR(__NR_exit_group),
		/* socket(AF_UNIX, ...) only */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 1, 0),
		KILL,
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* mmap without PROT_EXEC (malloc's large blocks) */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
		KILL,
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		KILL,
	};
	struct sock_fprog fp = { .len = sizeof prog / sizeof prog[0], .filter = prog };
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
		fail("seccomp");
#else
	errno = ENOSYS;
	fail("seccomp: no allowlist for this architecture");
#endif
}

static void confine(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail("no_new_privs");
	landlock_nothing();
	seccomp_allowlist();
}

int main(int argc, char **argv)
{
	int i = 1, life = -1;
	if (i < argc && strcmp(argv[i], "-v") == 0) {
		verbose = 1;
		i++;
	}
	if (i < argc && strncmp(argv[i], "--fd=", 5) == 0) {
		char *end;
		long v = strtol(argv[i] + 5, &end, 10);
		if (*end || v < 3 || v > 1024)
			usage();
		life = (int)v;
		i++;
	}
	if (life < 0 || argc - i < 2 || argc - i > 3)
		usage();
	const char *listen_path = argv[i], *server_path = argv[i + 1];
	const char *cookie_path = argc - i == 3 ? argv[i + 2] : NULL;

	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* the cookie stays in here */

	if (set_path(&server_addr, server_path) < 0)
		usage();
	if (cookie_path) {
		int fd = open(cookie_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			have_cookie = read(fd, cookie, COOKIE_LEN) == COOKIE_LEN;
			close(fd);
		}
		if (!have_cookie)
			say("no cookie in %s; the server decides by the connection's uid",
			    cookie_path);
	}

	struct sockaddr_un la;
	if (set_path(&la, listen_path) < 0)
		usage();
	int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listener < 0)
		fail("socket");
	if (bind(listener, (struct sockaddr *)&la, sizeof la) < 0)
		fail(listen_path);
	if (listen(listener, 16) < 0)
		fail("listen");
	confine(); /* before the sandbox can connect: it starts after "R" */
	if (send(life, "R", 1, MSG_NOSIGNAL) != 1)
		fail("lifeline");

	for (int k = 0; k < MAX_CONNS; k++)
		conns[k].client.fd = conns[k].server.fd = -1;

	struct pollfd pfd[2 + 2 * MAX_CONNS];
	int owner[2 + 2 * MAX_CONNS];
	for (;;) {
		int n = 0;
		pfd[n++] = (struct pollfd){ .fd = life, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = listener, .events = POLLIN };
		for (int k = 0; k < MAX_CONNS; k++) {
			struct conn *c = &conns[k];
			if (!c->used)
				continue;
			short in = queued(&c->client.out) > QUEUE_HIGH ||
						   queued(&c->server.out) > QUEUE_HIGH
					   ? 0
					   : POLLIN;
			owner[n] = k;
			pfd[n++] = (struct pollfd){ .fd = c->client.fd,
						    .events = in | (queued(&c->client.out) ? POLLOUT
											   : 0) };
			pfd[n++] = (struct pollfd){ .fd = c->server.fd,
						    .events = in | (queued(&c->server.out) ? POLLOUT
											   : 0) };
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail("poll");
		}
		if (pfd[0].revents) {
			char b;
			ssize_t r = recv(life, &b, 1, MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				exit(0); /* the sandbox is over */
		}
		for (int at = 2; at < n; at += 2) {
			struct conn *c = &conns[owner[at]];
			short cr = pfd[at].revents, sr = pfd[at + 1].revents;
			const char *why = NULL;
			int r = 0;
			if (cr & (POLLIN | POLLHUP | POLLERR))
				r = pump(c, &c->client, &c->server, 1);
			if (r < 0)
				why = r == -2 ? NULL
					      : "the client broke the protocol or the filter's rules";
			else if (sr & (POLLIN | POLLHUP | POLLERR)) {
				r = pump(c, &c->server, &c->client, 0);
				if (r < 0)
					why = r == -2 ? "the server closed it"
						      : "the server broke the protocol";
			}
			if (r == 0 && (flush(&c->client) < 0 || flush(&c->server) < 0)) {
				r = -1;
				why = "a write failed";
			}
			if (r < 0)
				conn_close(c, why); /* NULL: the client left, nothing to say */
		}
		if (pfd[1].revents & POLLIN)
			accept_one(listener);
	}
}
#endif
