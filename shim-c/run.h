/*
 * run.h - the shim's whole recipe (PLAN.md, "Fixed recipe"), from its
 * command line (`--plan-fd N [--replan PROGRAM ARG...] | --probe-userns`)
 * to the monitor's exit status.
 */
#ifndef TSJAIL_RUN_H
#define TSJAIL_RUN_H

/* tsjail-shim's main (main.c): returns the monitor's exit status (the
 * program's), or exits 125 on a setup failure. */
int shim_main(int argc, char **argv);

#endif
