// libcurl (Debian: libcurl4-openssl-dev) with non-variadic wrappers: Swift cannot call curl_easy_setopt directly.
#ifndef MULTINIC_CCURL_SHIM_H
#define MULTINIC_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode multinic_curl_set_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode multinic_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode multinic_curl_set_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*multinic_curl_write_callback)(char *data, size_t size, size_t count, void *context);
static inline CURLcode multinic_curl_set_write_function(CURL *handle, multinic_curl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}
static inline CURLcode multinic_curl_get_status(CURL *handle, long *status) {
    return curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, status);
}
#endif
