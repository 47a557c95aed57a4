/*
 * A shared object that proves code ran in the process that loaded it: its
 * constructor writes "<its own path>.ran" holding the content of the file
 * named by SECRET (compiled in) and its process id. The PulseAudio escape
 * test (pulseaudio.test.ts) has the sound server outside the sandbox load it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

#ifndef SECRET
#define SECRET "/dev/null"
#endif

__attribute__((constructor)) static void ran(void)
{
	Dl_info info;
	char out[4096], buf[256];
	if (!dladdr((void *)ran, &info) || !info.dli_fname)
		return;
	snprintf(out, sizeof out, "%s.ran", info.dli_fname);
	FILE *o = fopen(out, "w");
	if (!o)
		return;
	FILE *s = fopen(SECRET, "r");
	size_t n = s ? fread(buf, 1, sizeof buf, s) : 0;
	if (s)
		fclose(s);
	fprintf(o, "pid %d\n", (int)getpid());
	fwrite(buf, 1, n, o);
	fclose(o);
}
