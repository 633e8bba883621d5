// ThreadSanitizer builds only: making the uninstrumented librdkafka usable under TSan.
//
// 1. C11 threads routed to pthreads. Debian's librdkafka creates its threads with C11
//    thrd_create and locks with mtx_*/cnd_*. TSan intercepts only the pthread functions, and
//    glibc's C11 functions reach pthreads through internal symbols: librdkafka's threads
//    start unregistered and crash in TSan's allocator (google/sanitizers#1195, #1603), and
//    its locks are invisible. Defined in the test program, these functions interpose glibc's
//    for librdkafka, so TSan sees its threads and locks like any others.
// 2. librdkafka hands buffers between its threads with reference counts kept by atomic
//    builtins in its own (uninstrumented, stripped) code, which TSan cannot see: its free()
//    and pthread_rwlock_destroy() then look like races with the threads that used the
//    buffer or lock before (e.g. a consumer reading a message's key, destroying the message,
//    and a broker thread freeing the buffer later). Those reports are suppressed by module.
//    The price: a race whose stack passes through librdkafka (our delivery callbacks run
//    under rd_kafka_poll) is not reported either; the rest of our code stays checked.
//    (`called_from_lib` would hide less, but it also hides librdkafka's direct
//    pthread_rwlock calls and so reports races that its rwlocks prevent.)
#if defined(__SANITIZE_THREAD__)

#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <new>

namespace {

int result(int error) {
  switch (error) {
    case 0:
      return thrd_success;
    case ENOMEM:
      return thrd_nomem;
    case EBUSY:
      return thrd_busy;
    case ETIMEDOUT:
      return thrd_timedout;
    default:
      return thrd_error;
  }
}

struct Start {
  thrd_start_t function;
  void* argument;
};

void* trampoline(void* p) {
  Start start = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(start.function(start.argument)));
}

pthread_mutex_t* native(mtx_t* m) {
  return reinterpret_cast<pthread_mutex_t*>(m);
}
pthread_cond_t* native(cnd_t* c) {
  return reinterpret_cast<pthread_cond_t*>(c);
}

static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t));
static_assert(sizeof(once_flag) == sizeof(pthread_once_t));
static_assert(sizeof(thrd_t) == sizeof(pthread_t));

}  // namespace

extern "C" {

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
  auto* start = new (std::nothrow) Start{function, argument};
  if (start == nullptr) return thrd_nomem;
  const int error = pthread_create(thread, nullptr, trampoline, start);
  if (error != 0) delete start;
  return result(error);
}

int thrd_join(thrd_t thread, int* out) {
  void* value = nullptr;
  const int error = pthread_join(thread, &value);
  if (error == 0 && out != nullptr) *out = static_cast<int>(reinterpret_cast<std::intptr_t>(value));
  return result(error);
}

int thrd_detach(thrd_t thread) {
  return result(pthread_detach(thread));
}

thrd_t thrd_current(void) {
  return pthread_self();
}

int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
  const int error = pthread_mutex_init(native(m), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return result(error);
}

int mtx_lock(mtx_t* m) {
  return result(pthread_mutex_lock(native(m)));
}
int mtx_trylock(mtx_t* m) {
  return result(pthread_mutex_trylock(native(m)));
}
int mtx_unlock(mtx_t* m) {
  return result(pthread_mutex_unlock(native(m)));
}
void mtx_destroy(mtx_t* m) {
  pthread_mutex_destroy(native(m));
}

int cnd_init(cnd_t* c) {
  return result(pthread_cond_init(native(c), nullptr));
}
int cnd_signal(cnd_t* c) {
  return result(pthread_cond_signal(native(c)));
}
int cnd_broadcast(cnd_t* c) {
  return result(pthread_cond_broadcast(native(c)));
}
int cnd_wait(cnd_t* c, mtx_t* m) {
  return result(pthread_cond_wait(native(c), native(m)));
}
int cnd_timedwait(cnd_t* __restrict c, mtx_t* __restrict m, const struct timespec* __restrict at) {
  return result(pthread_cond_timedwait(native(c), native(m), at));
}
void cnd_destroy(cnd_t* c) {
  pthread_cond_destroy(native(c));
}

void call_once(once_flag* flag, void (*function)(void)) {
  pthread_once(reinterpret_cast<pthread_once_t*>(flag), function);
}

const char* __tsan_default_suppressions() {
  return "race:librdkafka.so\n";
}

}  // extern "C"

#endif  // __SANITIZE_THREAD__
