# debian/dist.mk: the Debian packaging files shipped in the dist tarball
# (included by Makefile.am), so the package builds from that tarball.
