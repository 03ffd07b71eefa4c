// Header-only: see include/nexus_linux.h.
