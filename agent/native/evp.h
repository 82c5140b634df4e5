// Node's own OpenSSL as the addon's C files reach it: the EVP functions they call, declared weak, so that an addon
// loaded into a Node binary that does not export OpenSSL still loads (openssl_linked() is then false and AES goes
// through node:crypto instead). Compiled in only when binding.gyp defines LOGSEAL_OPENSSL.
#ifndef LOGSEAL_EVP_H
#define LOGSEAL_EVP_H

#include <stdbool.h>

#ifdef LOGSEAL_OPENSSL
#include <openssl/evp.h>
#pragma weak EVP_CIPHER_CTX_new
#pragma weak EVP_CIPHER_CTX_free
#pragma weak EVP_CIPHER_CTX_ctrl
#pragma weak EVP_aes_256_gcm
#pragma weak EVP_EncryptInit_ex
#pragma weak EVP_EncryptUpdate
#pragma weak EVP_EncryptFinal_ex
#pragma weak EVP_DecryptInit_ex
#pragma weak EVP_DecryptUpdate
#pragma weak EVP_DecryptFinal_ex
#pragma weak EVP_aes_256_ecb
#pragma weak EVP_CIPHER_CTX_set_padding

static inline bool openssl_linked(void) {
  return EVP_CIPHER_CTX_new && EVP_CIPHER_CTX_free && EVP_CIPHER_CTX_ctrl && EVP_aes_256_gcm && EVP_EncryptInit_ex &&
         EVP_EncryptUpdate && EVP_EncryptFinal_ex && EVP_DecryptInit_ex && EVP_DecryptUpdate && EVP_DecryptFinal_ex && EVP_aes_256_ecb &&
         EVP_CIPHER_CTX_set_padding;
}
#else
static inline bool openssl_linked(void) { return false; }
#endif

#endif
