// libcurl (Debian: libcurl4-openssl-dev), loaded on first use with dlopen("libcurl.so.4") rather than linked:
// libcurl pulls in some thirty libraries, and the CNI binaries must start fast for the verbs that never talk HTTP
// (VERSION, configuration errors). Non-variadic wrappers, since Swift cannot call curl_easy_setopt directly.
// Every wrapper fails cleanly (NULL or CURLE_FAILED_INIT) when libcurl cannot be loaded.
#ifndef MULTINIC_CCURL_SHIM_H
#define MULTINIC_CCURL_SHIM_H
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

typedef struct {
    int loaded;
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} multinic_curl_api;

// State lives in function-local statics: Swift's importer emits inline functions, not header globals.
static inline multinic_curl_api *multinic_curl_storage(void) {
    static multinic_curl_api table;
    return &table;
}
static inline pthread_once_t *multinic_curl_once(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    return &once;
}

static inline void multinic_curl_load(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) return;
    multinic_curl_api *api = multinic_curl_storage();
    *(void **)&api->easy_init = dlsym(library, "curl_easy_init");
    *(void **)&api->easy_cleanup = dlsym(library, "curl_easy_cleanup");
    *(void **)&api->easy_setopt = dlsym(library, "curl_easy_setopt");
    *(void **)&api->easy_perform = dlsym(library, "curl_easy_perform");
    *(void **)&api->easy_getinfo = dlsym(library, "curl_easy_getinfo");
    *(void **)&api->easy_strerror = dlsym(library, "curl_easy_strerror");
    *(void **)&api->slist_append = dlsym(library, "curl_slist_append");
    *(void **)&api->slist_free_all = dlsym(library, "curl_slist_free_all");
    api->loaded = api->easy_init && api->easy_cleanup && api->easy_setopt && api->easy_perform && api->easy_getinfo
        && api->easy_strerror && api->slist_append && api->slist_free_all;
}

/// The loaded API, or NULL when libcurl.so.4 is missing.
static inline const multinic_curl_api *multinic_curl(void) {
    pthread_once(multinic_curl_once(), multinic_curl_load);
    return multinic_curl_storage()->loaded ? multinic_curl_storage() : NULL;
}

static inline CURL *multinic_curl_easy_init(void) {
    const multinic_curl_api *api = multinic_curl();
    return api ? api->easy_init() : NULL;
}
static inline void multinic_curl_easy_cleanup(CURL *handle) {
    const multinic_curl_api *api = multinic_curl();
    if (api && handle) api->easy_cleanup(handle);
}
static inline CURLcode multinic_curl_easy_perform(CURL *handle) {
    const multinic_curl_api *api = multinic_curl();
    return api ? api->easy_perform(handle) : CURLE_FAILED_INIT;
}
static inline const char *multinic_curl_easy_strerror(CURLcode code) {
    const multinic_curl_api *api = multinic_curl();
    return api ? api->easy_strerror(code) : "libcurl.so.4 could not be loaded";
}
static inline struct curl_slist *multinic_curl_slist_append(struct curl_slist *list, const char *text) {
    const multinic_curl_api *api = multinic_curl();
    return api ? api->slist_append(list, text) : list;
}
static inline void multinic_curl_slist_free_all(struct curl_slist *list) {
    const multinic_curl_api *api = multinic_curl();
    if (api && list) api->slist_free_all(list);
}
static inline CURLcode multinic_curl_set_string(CURL *handle, CURLoption option, const char *value) {
    const multinic_curl_api *api = multinic_curl();
    return api ? api->easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}
static inline CURLcode multinic_curl_set_long(CURL *handle, CURLoption option, long value) {
    const multinic_curl_api *api = multinic_curl();
    return api ? api->easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}
static inline CURLcode multinic_curl_set_pointer(CURL *handle, CURLoption option, void *value) {
    const multinic_curl_api *api = multinic_curl();
    return api ? api->easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}
typedef size_t (*multinic_curl_write_callback)(char *data, size_t size, size_t count, void *context);
static inline CURLcode multinic_curl_set_write_function(CURL *handle, multinic_curl_write_callback callback) {
    const multinic_curl_api *api = multinic_curl();
    return api ? api->easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback) : CURLE_FAILED_INIT;
}
static inline CURLcode multinic_curl_get_status(CURL *handle, long *status) {
    const multinic_curl_api *api = multinic_curl();
    return api ? api->easy_getinfo(handle, CURLINFO_RESPONSE_CODE, status) : CURLE_FAILED_INIT;
}
#endif
