/*
 * shim.c - tsjail-shim itself: its main is the recipe's (main.c,
 * shim_main), which the fast entry point fast.c runs in-process too.
 */
#include "run.h"

int main(int argc, char **argv)
{
	return shim_main(argc, argv);
}
