# tests/system/container.bash: sourced by tests/system/e2e. Owns the
# booted Debian 12 container: the cached minimal root file system
# (debootstrap), booting it with systemd-nspawn, waiting until its systemd
# runs, running commands inside it (nsenter) and tearing it down. Owns no
# test of echod.
#
# The root file system is built once per package list and kept under
# $E2E_CACHE (a directory per key); --volatile=overlay boots it with a
# tmpfs over it, so a run never changes the cached tree.

E2E_CACHE=${E2E_CACHE:-/var/cache/echod-e2e}
E2E_SUITE=bookworm
# Bump when rootfs_configure changes, so older caches are not used.
E2E_RECIPE=1
CONTAINER_PID=""
CONTAINER_INIT=""
# Set by rootfs_ensure: the cached tree to boot.
# shellcheck disable=SC2034 # read by tests/system/e2e
ROOTFS=""

# The Debian mirror the host's apt uses (deb822 or one-line sources).
rootfs_mirror() {
	local uri
	uri=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -v -- '-security' | head -n 1 || true)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "'"$E2E_SUITE"'" { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null || true)
	echo "${E2E_MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

# The cache key of a root file system with PACKAGES (comma-separated).
rootfs_key() {
	printf '%s\n' "$E2E_SUITE" "$(rootfs_mirror)" "$1" "$E2E_RECIPE" |
		sha256sum | cut -c1-16
}

# Settles the new tree DIR: no timers that could take the dpkg lock.
rootfs_configure() {
	systemctl --root="$1" mask --quiet apt-daily.timer apt-daily-upgrade.timer \
		dpkg-db-backup.timer e2scrub_all.timer fstrim.timer 2>/dev/null || true
}

# Builds the tree for PACKAGES into DIR (via a temporary sibling).
rootfs_build() {
	local packages=$1 dir=$2 tmp
	tmp=$(mktemp -d "$dir.tmp.XXXXXX")
	log "debootstrap --variant=minbase --include=$packages $E2E_SUITE $(rootfs_mirror)"
	if ! debootstrap --variant=minbase --include="$packages" "$E2E_SUITE" \
		"$tmp/root" "$(rootfs_mirror)" > "$tmp.log" 2>&1; then
		tail -n 30 "$tmp.log" >&2
		rm -rf "$tmp"
		die "debootstrap failed (log: $tmp.log)"
	fi
	rootfs_configure "$tmp/root"
	mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
	rm -f "$tmp.log"
}

# Prints the cached root file system with PACKAGES, building it if need be;
# drops the caches of other keys.
rootfs_ensure() {
	local packages=$1 dir
	dir=$E2E_CACHE/rootfs-$(rootfs_key "$packages")
	mkdir -p "$E2E_CACHE"
	if [ -d "$dir/root" ]; then
		log "root file system cached: $dir"
	else
		rootfs_build "$packages" "$dir"
		find "$E2E_CACHE" -mindepth 1 -maxdepth 1 -name 'rootfs-*' \
			! -path "$dir" -exec rm -rf {} +
	fi
	# shellcheck disable=SC2034 # read by tests/system/e2e
	ROOTFS=$dir/root
}

# Boots ROOTFS with systemd, private network, BINDDIR read-only at /e2e.
container_boot() {
	local rootfs=$1 binddir=$2 console=$3
	systemd-nspawn -b --register=no --keep-unit --volatile=overlay \
		--private-network --bind-ro="$binddir:/e2e" \
		-M "echod-e2e-$$" -D "$rootfs" < /dev/null > "$console" 2>&1 &
	CONTAINER_PID=$!
	log "systemd-nspawn started, pid $CONTAINER_PID; console: $console"
}

# True once the container's systemd listens on /run/systemd/private;
# sets CONTAINER_INIT to its pid as the host sees it.
container_has_systemd() {
	local pid
	kill -0 "$CONTAINER_PID" 2>/dev/null || die "systemd-nspawn exited"
	for pid in $(pgrep -P "$CONTAINER_PID"); do
		if [ -S "/proc/$pid/root/run/systemd/private" ]; then
			CONTAINER_INIT=$pid
			return 0
		fi
	done
	return 1
}

# Waits until the container's boot has finished.
container_wait_ready() {
	local state
	wait_until 60 "systemd running in the container" container_has_systemd
	state=$(timeout 120 nsenter -t "$CONTAINER_INIT" -a -- \
		systemctl is-system-running --wait 2>&1 || true)
	[ "$state" = running ] || {
		in_container systemctl --failed --no-pager >&2 || true
		die "container booted as '$state', not 'running'"
	}
	log "container booted: init pid $CONTAINER_INIT, system running"
}

# Runs a command in all the container's namespaces, with a clean environment.
in_container() {
	nsenter -t "$CONTAINER_INIT" -a -- env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
		SYSTEMD_PAGER= SYSTEMD_COLORS=0 DEBIAN_FRONTEND=noninteractive "$@"
}

# Runs a host command in the container's network namespace only: its
# loopback, none of the host's interfaces.
in_netns() {
	nsenter -t "$CONTAINER_INIT" -n -- "$@"
}

# Shuts the container down: SIGTERM asks its systemd to halt; SIGKILL if
# that takes more than 30 s.
container_stop() {
	[ -n "$CONTAINER_PID" ] || return 0
	if kill -TERM "$CONTAINER_PID" 2>/dev/null &&
		! wait_until_quiet 30 container_gone; then
		kill -KILL "$CONTAINER_PID" 2>/dev/null || true
	fi
	wait "$CONTAINER_PID" 2>/dev/null || true
	CONTAINER_PID=""
}

container_gone() {
	! kill -0 "$CONTAINER_PID" 2>/dev/null
}
