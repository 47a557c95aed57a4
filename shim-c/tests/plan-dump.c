/*
 * plan-dump.c - decode a launch plan with the shim's own parser (plan.c)
 * and print every field of the result as one JSON document, so that a test
 * in TypeScript (test/unit/plan/wire.test.ts) can encode a plan, have the
 * C side decode it and compare field by field: one wire format, checked
 * from both ends.
 *
 *   plan-dump < PLAN    exit 0 and the JSON on stdout, or exit 1 and the
 *                       parser's one-line error on stderr
 *
 * 64-bit numbers are printed as decimal strings, blobs as lowercase hex.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>

static void str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void u64(uint64_t v)
{
	printf("\"%llu\"", (unsigned long long)v);
}

static void hex(const uint8_t *p, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('"');
}

static void strings(char **v, size_t n)
{
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			putchar(',');
		str(v[i]);
	}
	putchar(']');
}

static void mount(const struct plan_mount *m)
{
	printf("{\"type\":\"%s\",\"src\":", plan_type_name(m->type));
	str(m->src);
	fputs(",\"dest\":", stdout);
	str(m->dest);
	fputs(",\"dev\":", stdout);
	u64(m->dev);
	fputs(",\"ino\":", stdout);
	u64(m->ino);
	fputs(",\"size\":", stdout);
	u64(m->size);
	printf(",\"mode\":%u,\"kind\":%u,\"flags\":%u,\"data\":", m->mode, m->kind, m->flags);
	if (m->data)
		hex(m->data, m->datalen);
	else
		fputs("null", stdout);
	putchar('}');
}

int main(void)
{
	static uint8_t buf[16 * 1024 * 1024 + 1];
	size_t len = fread(buf, 1, sizeof(buf), stdin);
	char err[512];
	struct plan pl;

	if (plan_parse(buf, len, &pl, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("{\"ns_flags\":%u,\"uid\":%u,\"gid\":%u,\"hostname\":", pl.ns_flags, pl.uid, pl.gid);
	str(pl.hostname);
	printf(",\"verbose\":%u,\"lifelines\":[", pl.verbose);
	for (size_t i = 0; i < pl.nlifelines; i++)
		printf("%s%d", i ? "," : "", pl.lifelines[i]);
	printf("],\"tty_fds\":%u,\"tty_flags\":%u,\"tty_devpts\":", pl.tty_fds, pl.tty_flags);
	str(pl.tty_devpts);
	fputs(",\"ipc_shm\":", stdout);
	u64(pl.ipc_shm);
	printf(",\"ipc_msg\":[%u,%u,%u],\"ipc_sem\":[%u,%u,%u,%u]", pl.ipc_msg[0], pl.ipc_msg[1],
	       pl.ipc_msg[2], pl.ipc_sem[0], pl.ipc_sem[1], pl.ipc_sem[2], pl.ipc_sem[3]);
	fputs(",\"record_dir\":", stdout);
	str(pl.record_dir);
	fputs(",\"record_name\":", stdout);
	str(pl.record_name);
	fputs(",\"record_meta\":", stdout);
	str((const char *)pl.record_meta);
	printf(",\"parent_pid\":%u,\"enter_pid\":%u,\"enter_start\":", pl.parent_pid, pl.enter_pid);
	u64(pl.enter_start);
	fputs(",\"cg_joins\":", stdout);
	strings((char **)pl.cg_joins, pl.ncg_joins);
	fputs(",\"netargv\":", stdout);
	strings((char **)pl.netargv, pl.nnetargs);
	fputs(",\"netrules\":[", stdout);
	for (size_t i = 0; i < pl.nnetrules; i++) {
		const struct plan_netrule *r = &pl.netrules[i];
		printf("%s{\"family\":%u,\"prefix\":%u,\"action\":%u,\"addr\":\"", i ? "," : "",
		       r->family, r->prefix, r->action);
		for (unsigned j = 0; j < (r->family == 4 ? 4u : 16u); j++)
			printf("%02x", r->addr[j]);
		fputs("\"}", stdout);
	}
	printf("],\"listen_port\":%u,\"listen_fd\":%d", pl.listen_port, pl.listen_fd);
	fputs(",\"caps\":", stdout);
	u64(pl.caps);
	fputs(",\"newuidmap\":", stdout);
	str(pl.newuidmap);
	fputs(",\"newgidmap\":", stdout);
	str(pl.newgidmap);
	fputs(",\"uid_map\":", stdout);
	str(pl.uid_map);
	fputs(",\"gid_map\":", stdout);
	str(pl.gid_map);
	fputs(",\"cgroups\":[", stdout);
	for (size_t i = 0; i < pl.ncgroups; i++) {
		const struct plan_cgroup *c = &pl.cgroups[i];
		printf("%s{\"type\":\"%s\",\"path\":", i ? "," : "", plan_type_name(c->type));
		str(c->path);
		printf(",\"flags\":%u,\"message\":", c->flags);
		str(c->message);
		fputs(",\"value\":", stdout);
		str(c->value);
		putchar('}');
	}
	fputs("],\"mounts\":[", stdout);
	for (size_t i = 0; i < pl.nmounts; i++) {
		if (i)
			putchar(',');
		mount(&pl.mounts[i]);
	}
	fputs("],\"discard\":[", stdout);
	for (size_t i = 0; i < pl.ndiscard; i++) {
		if (i)
			putchar(',');
		str(pl.discard[i]);
	}
	fputs("],\"chdir\":", stdout);
	str(pl.chdir);
	fputs(",\"rlimits\":[", stdout);
	for (size_t i = 0; i < pl.nrlimits; i++) {
		printf("%s{\"resource\":%u,\"soft\":", i ? "," : "", pl.rlimits[i].resource);
		u64(pl.rlimits[i].soft);
		fputs(",\"hard\":", stdout);
		u64(pl.rlimits[i].hard);
		putchar('}');
	}
	fputs("],\"env\":", stdout);
	strings(pl.envp, pl.envc);
	fputs(",\"argv\":", stdout);
	strings(pl.argv, pl.argc);
	fputs(",\"program\":", stdout);
	str(pl.program);
	fputs(",\"search_path\":", stdout);
	str(pl.search_path);
	printf(",\"has_landlock\":%d,\"ll_abi\":%u,\"ll_flags\":%u,\"ll_fs\":", pl.has_landlock,
	       pl.ll_abi, pl.ll_flags);
	u64(pl.ll_fs);
	fputs(",\"ll_net\":", stdout);
	u64(pl.ll_net);
	fputs(",\"ll_scoped\":", stdout);
	u64(pl.ll_scoped);
	fputs(",\"ll_rules\":[", stdout);
	for (size_t i = 0; i < pl.nll_rules; i++) {
		fputs(i ? ",{\"path\":" : "{\"path\":", stdout);
		str(pl.ll_rules[i].path);
		fputs(",\"port\":", stdout);
		u64(pl.ll_rules[i].port);
		fputs(",\"access\":", stdout);
		u64(pl.ll_rules[i].access);
		putchar('}');
	}
	printf("],\"has_seccomp\":%d,\"seccomp_flags\":%u,\"seccomp_prog\":", pl.has_seccomp,
	       pl.seccomp_flags);
	if (pl.seccomp_prog)
		hex(pl.seccomp_prog, pl.seccomp_len);
	else
		fputs("null", stdout);
	printf(",\"has_report\":%d,\"report_out\":%d,\"report_flags\":%u,\"report_syscalls\":[",
	       pl.has_report, pl.report_out, pl.report_flags);
	for (size_t i = 0; i < pl.nreport_syscalls; i++) {
		const struct plan_report_syscall *r = &pl.report_syscalls[i];
		printf("%s{\"nr\":%u,\"errno\":%u,\"json\":", i ? "," : "", r->nr, r->err);
		str(r->json);
		fputs(",\"hint\":", stdout);
		str(r->hint);
		putchar('}');
	}
	fputs("],\"report_paths\":[", stdout);
	for (size_t i = 0; i < pl.nreport_paths; i++) {
		const struct plan_report_path *r = &pl.report_paths[i];
		printf("%s{\"nr\":%u,\"path_arg\":%u,\"dirfd_arg\":%u,\"flags_arg\":%u,\"json\":",
		       i ? "," : "", r->nr, r->path_arg, r->dirfd_arg, r->flags_arg);
		str(r->json);
		fputs(",\"hint\":", stdout);
		str(r->hint);
		putchar('}');
	}
	fputs("],\"report_ll\":[", stdout);
	for (size_t i = 0; i < pl.nreport_ll; i++) {
		const struct plan_report_ll *r = &pl.report_ll[i];
		printf("%s{\"path\":", i ? "," : "");
		str(r->path);
		printf(",\"access\":\"%llu\",\"json\":", (unsigned long long)r->access);
		str(r->json);
		fputs(",\"hint\":", stdout);
		str(r->hint);
		putchar('}');
	}
	printf("],\"report_dbus_fd\":%d,\"report_dbus_talk\":", pl.report_dbus_fd);
	str(pl.report_dbus_talk);
	fputs(",\"report_dbus_own\":", stdout);
	str(pl.report_dbus_own);
	fputs("}\n", stdout);
	plan_free(&pl);
	return 0;
}
