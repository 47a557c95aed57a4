# Installing tsjail in the file system hierarchy (FHS), for distributions
# and for `sudo make install` on one machine. Build first: `npm ci` (or
# `npm run build` with node_modules already there); `make install` itself
# needs no network and runs no npm.
#
#   make install PREFIX=/usr DESTDIR=/tmp/root
#
#   $(BINDIR)/tsjail                      the command: a link to ENTRY (the
#                                         Node entry point, see LIBEXEC_PROGRAMS)
#   $(LIBEXECDIR)/tsjail-shim             the sandbox helper (C)
#   $(LIBEXECDIR)/tsjail-pulse-filter     the sound server's filter (C)
#   $(LIBEXECDIR)/tsjail-net-proxy        the filtering proxy of a "private" network with an allow list (C)
#   $(NODEDIR)/                           the Node CLI: bin/, dist/tsjail.cjs
#                                         and its code cache, package.json,
#                                         node_modules/ (koffi only: the
#                                         bundle holds the other dependencies)
#   $(NODEDIR)/profiles -> $(DATADIR)/profiles
#   $(DATADIR)/profiles/                  the shipped profiles and include/
#   /etc/tsjail/profiles/                 the administrator's (SPEC search
#                                         order: ~/.config, /etc, shipped)
#   /etc/apparmor.d/tsjail                grants userns to $(LIBEXECDIR)/tsjail-shim
#   $(MANDIR)/man1/tsjail.1, man5/tsjail-profile.5
#   bash, zsh and fish completions
#
# The shim is found next to the CLI's package.json (shim-c/) in a checkout
# and an npm install, else in /usr/libexec/tsjail or /usr/lib/tsjail
# (src/launch/shim-path.ts); the profiles through the symlink above.

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/tsjail
NODEDIR ?= $(PREFIX)/lib/tsjail
DATADIR ?= $(PREFIX)/share/tsjail
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
# The interpreter of the installed entry point (Debian: /usr/bin/node).
NODE ?= /usr/bin/env node

# What shim-c/ builds that goes to $(LIBEXECDIR). The fast-path launcher of
# issue 13 joins this list when shim-c builds it, and ENTRY then names it:
# /usr/bin/tsjail stays the one entry point, a link to ENTRY.
LIBEXEC_PROGRAMS ?= tsjail-shim tsjail-pulse-filter tsjail-net-proxy
ENTRY ?= $(NODEDIR)/bin/tsjail.js

INSTALL ?= install
NODE_ARCH := $(shell node -p 'process.platform + "-" + process.arch' 2>/dev/null)

all:
	npm run build

# Everything `make install` copies must exist: a clear line, not a cp error.
check-built:
	@for f in dist/tsjail.cjs $(addprefix shim-c/,$(LIBEXEC_PROGRAMS)) node_modules/koffi/package.json; do \
	  test -e $$f || { echo "make install: $$f is missing: build first (npm ci, or npm run build)" >&2; exit 1; }; \
	done

install: check-built
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(NODEDIR)/bin $(DESTDIR)$(NODEDIR)/dist \
	  $(DESTDIR)$(DATADIR) $(DESTDIR)$(SYSCONFDIR)/tsjail/profiles $(DESTDIR)$(SYSCONFDIR)/apparmor.d \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(INSTALL) -m 0755 $(addprefix shim-c/,$(LIBEXEC_PROGRAMS)) $(DESTDIR)$(LIBEXECDIR)/
	sed '1s|^#!.*|#!$(NODE)|' bin/tsjail.js > $(DESTDIR)$(NODEDIR)/bin/tsjail.js
	chmod 0755 $(DESTDIR)$(NODEDIR)/bin/tsjail.js
	$(INSTALL) -m 0644 package.json $(DESTDIR)$(NODEDIR)/
	$(INSTALL) -m 0644 dist/tsjail.cjs $(DESTDIR)$(NODEDIR)/dist/
	if [ -e dist/tsjail.cjs.cache ]; then $(INSTALL) -m 0644 dist/tsjail.cjs.cache $(DESTDIR)$(NODEDIR)/dist/; fi
	# koffi: its JavaScript and this platform's prebuilt module; not its C++
	# sources, documentation, install-time builder (cnoke) or code generator
	# (trampolines). Its licence
	# (MIT) goes with the package's copyright file.
	cd node_modules && find koffi @koromix/koffi-$(NODE_ARCH) -type f \
	  \( -name '*.js' -o -name '*.cjs' -o -name 'package.json' -o -path '*/$(subst -,_,$(NODE_ARCH))/*.node' \) \
	  -not -path 'koffi/doc/*' -not -path 'koffi/vendor/*' -not -path 'koffi/src/koffi/src/*/*' -not -name cnoke.cjs -not -name trampolines.cjs \
	  -exec $(INSTALL) -D -m 0644 {} $(DESTDIR)$(NODEDIR)/node_modules/{} \;
	cp -R profiles $(DESTDIR)$(DATADIR)/
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)/profiles
	ln -sfn $(shell realpath -m --relative-to=$(NODEDIR) $(DATADIR)/profiles) $(DESTDIR)$(NODEDIR)/profiles
	ln -sfn $(shell realpath -m --relative-to=$(BINDIR) $(ENTRY)) $(DESTDIR)$(BINDIR)/tsjail
	sed 's|@SHIM@|$(LIBEXECDIR)/tsjail-shim|' packaging/apparmor.d/tsjail > $(DESTDIR)$(SYSCONFDIR)/apparmor.d/tsjail
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/apparmor.d/tsjail
	$(INSTALL) -m 0644 man/tsjail.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 man/tsjail-profile.5 $(DESTDIR)$(MANDIR)/man5/
	node bin/tsjail.js completion bash > $(DESTDIR)$(BASHCOMPDIR)/tsjail
	node bin/tsjail.js completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_tsjail
	node bin/tsjail.js completion fish > $(DESTDIR)$(FISHCOMPDIR)/tsjail.fish
	chmod 0644 $(DESTDIR)$(BASHCOMPDIR)/tsjail $(DESTDIR)$(ZSHCOMPDIR)/_tsjail $(DESTDIR)$(FISHCOMPDIR)/tsjail.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tsjail $(DESTDIR)$(SYSCONFDIR)/apparmor.d/tsjail \
	  $(DESTDIR)$(MANDIR)/man1/tsjail.1 $(DESTDIR)$(MANDIR)/man5/tsjail-profile.5 \
	  $(DESTDIR)$(BASHCOMPDIR)/tsjail $(DESTDIR)$(ZSHCOMPDIR)/_tsjail $(DESTDIR)$(FISHCOMPDIR)/tsjail.fish
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(NODEDIR) $(DESTDIR)$(DATADIR)
	-rmdir $(DESTDIR)$(SYSCONFDIR)/tsjail/profiles $(DESTDIR)$(SYSCONFDIR)/tsjail

.PHONY: all check-built install uninstall
