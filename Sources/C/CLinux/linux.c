// Header-only parts: include/nexus_linux.h.
