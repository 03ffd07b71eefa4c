#include "nexus_crypto.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>

int nexus_ed25519_verify(const uint8_t public_key[32], const uint8_t *message, size_t length,
                         const uint8_t signature[64]) {
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, 32);
    if (!key) return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int result = -1;
    // Ed25519 signs the message itself (no digest): one-shot DigestVerify with md NULL.
    if (ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1) {
        result = EVP_DigestVerify(ctx, signature, 64, message, length) == 1 ? 1 : 0;
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return result;
}

int nexus_ed25519_sign(const uint8_t private_key[32], const uint8_t *message, size_t length,
                       uint8_t signature[64]) {
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, private_key, 32);
    if (!key) return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sig_len = 64;
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1
             && EVP_DigestSign(ctx, signature, &sig_len, message, length) == 1 && sig_len == 64;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

int nexus_ed25519_public_key(const uint8_t private_key[32], uint8_t public_key[32]) {
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, private_key, 32);
    if (!key) return -1;
    size_t len = 32;
    int ok = EVP_PKEY_get_raw_public_key(key, public_key, &len) == 1 && len == 32;
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

static int raw(EVP_PKEY *key, uint8_t out[32], int private_part) {
    if (!key) return -1;
    size_t len = 32;
    int ok = EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 &&
             (private_part ? EVP_PKEY_get_raw_private_key(key, out, &len) : EVP_PKEY_get_raw_public_key(key, out, &len)) == 1 &&
             len == 32;
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

int nexus_ed25519_load_public_pem(const char *path, uint8_t public_key[32]) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    EVP_PKEY *key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    return raw(key, public_key, 0);
}

int nexus_ed25519_load_private_pem(const char *path, uint8_t private_key[32]) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return raw(key, private_key, 1);
}

int nexus_random_bytes(uint8_t *buffer, size_t length) {
    return RAND_bytes(buffer, (int)length) == 1 ? 0 : -1;
}
