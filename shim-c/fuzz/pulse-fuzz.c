/*
 * pulse-fuzz.c - libFuzzer target for tsjail-pulse-filter's frame and
 * tagstruct parsing and its decisions (make fuzz; clang).
 *
 *     ./fuzz/pulse-fuzz fuzz/pulse-corpus
 *
 * The filter runs outside the sandbox and reads what the sandboxed program
 * writes, so whatever the bytes, it must end a connection or pass frames
 * on, never crash, read out of bounds or leak. This includes pulse-filter.c
 * without its socket loop and feeds one connection from the input:
 *
 *   byte 0       bit 0: the filter has a cookie
 *   then         a control byte C and bytes: C & 1 is the side (0 the
 *                client, 1 the server), C >> 1 how many bytes arrive at
 *                once (0: as many as the filter asks for), as recv(2)
 *                would hand them to side_got().
 *
 * When the filter ends the connection a fresh one starts with the rest of
 * the input. Besides the sanitizers, every frame the filter queues to the
 * server is checked against its rules (the oracle below): AUTH first, with
 * the version's flag bits cleared and the real cookie; then only commands
 * of the allowlist, the stream ones for this connection's own streams; no
 * shared-memory flag. A breach aborts.
 */
#define PULSE_FILTER_NO_MAIN
#include "../pulse-filter.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "pulse-fuzz: the filter forwarded %s\n", what);
		abort();
	}
}

/* Frames appended to the server's queue from `from` on: each obeys the rules. */
static void check_forwarded(const struct conn *c, size_t from, int *first)
{
	const struct queue *q = &c->server.out;
	while (from < q->len) {
		check(q->len - from >= DESC_SIZE, "a partial descriptor");
		const uint8_t *d = q->p + from;
		uint32_t len = be32(d), chan = be32(d + 4), flags = be32(d + 16);
		check(q->len - from - DESC_SIZE >= len, "a partial frame");
		check(!(flags & FLAG_SHMMASK), "a shared-memory frame");
		const uint8_t *p = d + DESC_SIZE;
		if (chan == CHANNEL_PACKET) {
			check(len >= 10 && p[0] == 'L' && p[5] == 'L',
			      "a packet without command and tag");
			uint32_t cmd = be32(p + 1);
			if (*first) {
				check(cmd == CMD_AUTH && len == 10 + 5 + 5 + COOKIE_LEN,
				      "a first command not AUTH");
				check((be32(p + 11) & ~VERSION_MASK) == 0, "AUTH with flag bits");
				check(!have_cookie ||
					      memcmp(p + len - COOKIE_LEN, cookie, COOKIE_LEN) == 0,
				      "the client's cookie");
				*first = 0;
			} else {
				int rule = cmd < sizeof allowed ? allowed[cmd] : REFUSE;
				check(rule != REFUSE, "a command outside the allowlist");
				if (rule == OWN_SINK_INPUT || rule == OWN_SOURCE_OUTPUT) {
					check(len >= 15 && p[10] == 'L',
					      "a stream command without its index");
					uint32_t idx = be32(p + 11);
					check(rule == OWN_SINK_INPUT
						      ? is_own(c->own_in, c->n_in, idx)
						      : is_own(c->own_out, c->n_out, idx),
					      "a command on another client's stream");
				}
			}
		} else {
			check(!*first, "audio before AUTH");
		}
		from += DESC_SIZE + len;
	}
}

static void conn_reset(struct conn *c)
{
	conn_close(c, NULL); /* no descriptors: closes nothing, frees the rest */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	have_cookie = data[0] & 1;
	memset(cookie, 0x5a, sizeof cookie);
	struct conn *c = &conns[0];
	memset(c, 0, sizeof *c);
	c->client.fd = c->server.fd = -1;
	c->used = 1;
	int first = 1;
	size_t at = 1;
	while (at < size) {
		uint8_t ctl = data[at++];
		int from_client = !(ctl & 1);
		struct side *from = from_client ? &c->client : &c->server;
		struct side *to = from_client ? &c->server : &c->client;
		uint8_t *dst;
		size_t want, n = ctl >> 1;
		side_want(from, &dst, &want);
		if (n == 0 || n > want)
			n = want;
		if (n > size - at)
			n = size - at;
		if (n == 0)
			break;
		memcpy(dst, data + at, n);
		at += n;
		size_t before = c->server.out.len;
		int v = side_got(c, from, to, from_client, n);
		if (v < 0) {
			conn_reset(c);
			c->used = 1;
			first = 1;
			continue;
		}
		if (v > 0 && from_client)
			check_forwarded(c, before, &first);
		/* What a real socket would have taken: the queues stay small. */
		if (queued(&c->server.out) > QUEUE_HIGH || queued(&c->client.out) > QUEUE_HIGH) {
			c->server.out.len = c->server.out.off = 0;
			c->client.out.len = c->client.out.off = 0;
		}
	}
	conn_reset(c);
	return 0;
}
