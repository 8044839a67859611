# debian/dist.mk: the Debian packaging files shipped in the dist tarball
# (included by Makefile.am), so the package builds from that tarball.
# tests/system/ (the package's lint and its end-to-end test on a booted
# systemd) ships with them.
EXTRA_DIST += \
	debian/README.Debian \
	debian/changelog \
	debian/check-version \
	debian/control \
	debian/copyright \
	debian/echod.docs \
	debian/echod.examples \
	debian/echod.lintian-overrides \
	debian/echod.service \
	debian/rules \
	debian/source/format \
	debian/source/lintian-overrides \
	tests/system/build-deb \
	tests/system/client.py \
	tests/system/container.bash \
	tests/system/e2e \
	tests/system/lint \
	tests/system/piuparts \
	tests/system/setup
