#ifndef NEXUS_CRYPTO_H
#define NEXUS_CRYPTO_H
// Ed25519 through OpenSSL's libcrypto (EVP). Keys cross as 32 raw bytes.
#include <stddef.h>
#include <stdint.h>

/// 1: valid; 0: invalid signature; -1: bad key or library error.
int nexus_ed25519_verify(const uint8_t public_key[32], const uint8_t *message, size_t length,
                         const uint8_t signature[64]);
/// 0 on success; the private key is the 32-byte seed (RFC 8032).
int nexus_ed25519_sign(const uint8_t private_key[32], const uint8_t *message, size_t length,
                       uint8_t signature[64]);
int nexus_ed25519_public_key(const uint8_t private_key[32], uint8_t public_key[32]);
/// Loads a PEM file (`openssl genpkey -algorithm ed25519` and `openssl pkey -pubout`).
/// 0 on success, -1 if unreadable or not an Ed25519 key.
int nexus_ed25519_load_public_pem(const char *path, uint8_t public_key[32]);
int nexus_ed25519_load_private_pem(const char *path, uint8_t private_key[32]);
/// Fills `buffer` from the OS's randomness (for nonces). 0 on success.
int nexus_random_bytes(uint8_t *buffer, size_t length);

#endif
