// SPDX-License-Identifier: GPL-2.0
// A C++17 program that uses every macro and calls every function of <shmr.h>,
// built by tests/host/region_cxx.sh against the installed headers with
// -Wall -Wextra -Werror. It runs on whichever backend is there and prints
// one line per check ("ok NAME" or "FAIL NAME: ..."), then "done".
#include <shmr.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void check(bool ok, const char *what, int got = 0)
{
	if (ok) {
		std::printf("ok %s\n", what);
	} else {
		std::printf("FAIL %s: %d (%s)\n", what, got, got < 0 ? std::strerror(-got) : "");
		failures++;
	}
}

namespace {

// RAII wrapper, as a C++ user would write one.
class Region {
public:
	explicit Region(const shmr_region_opts &o) { err_ = shmr_region_create(&o, &r_); }
	Region(const Region &) = delete;
	Region &operator=(const Region &) = delete;
	~Region() { shmr_region_close(r_); }
	int err() const { return err_; }
	shmr_region *get() const { return r_; }

private:
	shmr_region *r_ = nullptr;
	int err_ = 0;
};

struct Shared {
	shmr_mutex mutex;
	shmr_cond cond;
	shmr_rwlock rwlock;
	unsigned long counter;
};

} // namespace

static void regions(const std::string &name)
{
	shmr_region *r = nullptr, *ro = nullptr;
	void *p = nullptr;
	int ret;

	// the macro with designators, with none, and a value-initialised struct
	ret = shmr_region_create(&SHMR_REGION_OPTS(.name = name.c_str(), .size = 4096, .mode = 0640,
						   .flags = SHMR_REGION_EXCL | SHMR_REGION_NOCLOEXEC),
				 &r);
	check(ret == 0, "create with SHMR_REGION_OPTS", ret);
	if (ret)
		return;
	shmr_region_opts dflt{};
	check(dflt.sz == sizeof(shmr_region_opts) && !dflt.name && !dflt.size && !dflt.flags,
	      "shmr_region_opts{} sets sz");
	shmr_region_opts anon = SHMR_REGION_OPTS();
	anon.size = 8192;
	{
		Region a(anon);
		check(a.err() == 0 && shmr_region_size(a.get()) >= 8192, "anonymous region", a.err());
	}
	ret = shmr_region_create(&SHMR_REGION_OPTS(.name = name.c_str(), .size = 1,
						   .flags = SHMR_REGION_EXCL), &ro);
	check(ret == -EEXIST && ro == nullptr, "EXCL on an existing name", ret);

	ret = shmr_region_map(r, &p);
	check(ret == 0 && p, "map", ret);
	if (!ret)
		std::memcpy(p, "c++", 4);
	ret = shmr_region_open(name.c_str(), SHMR_REGION_RDONLY, &ro);
	check(ret == 0, "open read-only", ret);

	// like struct stat, the struct shares its name with a function: say struct
	struct shmr_region_stat st;
	ret = shmr_region_stat(ro, &st);
	check(ret == 0 && st.size == shmr_region_size(r) && st.mode == 0640 &&
	      !(st.flags & (SHMR_STAT_ANON | SHMR_STAT_UNLINKED | SHMR_STAT_SEALED |
			    SHMR_STAT_PROCESS | SHMR_STAT_HUGE)) &&
	      std::strlen(st.name) <= SHMR_REGION_NAME_MAX && name == st.name,
	      "stat", ret);
	ret = shmr_region_stat_id(st.id, &st);
	check(ret == 0 && name == st.name, "stat_id", ret);
	std::vector<struct shmr_region_stat> all(64);
	ret = shmr_region_list(all.data(), all.size());
	check(ret >= 1, "list", ret);
	if (st.handles == SHMR_COUNT_UNKNOWN)
		check(st.mappings == SHMR_COUNT_UNKNOWN, "counts unknown on posix");

	// pass the read-only handle to a child over a socket
	int sv[2];
	check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	pid_t pid = fork();
	if (pid == 0) {
		shmr_region *got = nullptr;
		void *q = nullptr;
		shmr_region *got2 = nullptr;
		int ok = shmr_region_recv(sv[1], 0, &got) == 0 && shmr_region_map(got, &q) == 0 &&
			 std::strcmp(static_cast<const char *>(q), "c++") == 0 &&
			 shmr_region_recv_at(sv[1], SHMR_REGION_NOCLOEXEC, &got2, "cxx", 4) == 0 &&
			 shmr_region_size(got2) == shmr_region_size(got);
		_exit(ok ? 0 : 1);
	}
	ret = shmr_region_send(sv[0], ro);
	check(ret == 0, "send", ret);
	ret = shmr_region_send(sv[0], r);
	check(ret == 0, "send again", ret);
	int status = -1;
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "recv and map in a child", status);
	close(sv[0]);
	close(sv[1]);

	// the _at functions and the plain ones behind the macros
	shmr_region *r2 = nullptr;
	void *p2 = nullptr;
	ret = shmr_region_open_at(name.c_str(), 0, &r2, "cxx", 1);
	check(ret == 0, "open_at", ret);
	ret = shmr_region_map_at(r2, &p2, "cxx", 2);
	check(ret == 0, "map_at", ret);
	std::array<shmr_tracked, 16> tr{};
	ret = shmr_registry_list(tr.data(), tr.size());
	check(ret >= 4 && (tr[0].kind == SHMR_TRACKED_MAPPING || tr[0].kind == SHMR_TRACKED_HANDLE),
	      "registry_list", ret);
	check(std::strcmp(tr[0].where, "cxx:2") == 0, "where of map_at");
	check(shmr_leak_count() >= 4, "leak_count while held");
	check(shmr_region_unmap(p2) == 0 && shmr_region_close(r2) == 0, "unmap and close");
	ret = (shmr_region_open)(name.c_str(), 0, &r2);
	check(ret == 0 && shmr_region_fd(r2) >= 0, "plain shmr_region_open", ret);
	shmr_region_close(r2);
	// attach without a handle: macro, _at and plain function
	void *pa = nullptr;
	size_t alen = 0;
	ret = shmr_region_attach(name.c_str(), SHMR_REGION_RDONLY, &pa, &alen);
	check(ret == 0 && alen == shmr_region_size(r) &&
	      std::strcmp(static_cast<const char *>(pa), "c++") == 0, "attach", ret);
	check(shmr_region_unmap(pa) == 0, "unmap an attach");
	ret = shmr_region_attach_at(name.c_str(), 0, &pa, nullptr, "cxx", 5);
	check(ret == 0 && shmr_registry_list(tr.data(), tr.size()) >= 1 &&
	      std::strcmp(tr[0].where, "cxx:5") == 0, "attach_at", ret);
	check(shmr_region_unmap(pa) == 0, "unmap attach_at");
	ret = (shmr_region_attach)(name.c_str(), 0, &pa, &alen);
	check(ret == 0, "plain shmr_region_attach", ret);
	shmr_region_unmap(pa);
	shmr_region *r3 = nullptr;
	ret = shmr_region_create_at(&SHMR_REGION_OPTS(.size = 1), &r3, "cxx", 3);
	check(ret == 0, "create_at", ret);
	shmr_region_close(r3);

	uint64_t features = 0;
	ret = shmr_features(&features);
	check(ret == 0 && (features & SHMR_FEATURE_NAMED) && (features & SHMR_FEATURE_ANON),
	      "features", ret);
	uint64_t kernel_only = SHMR_FEATURE_ATTACH | SHMR_FEATURE_HUGE |
			       SHMR_FEATURE_SEAL | SHMR_FEATURE_EVENTS | SHMR_FEATURE_EXITS |
			       SHMR_FEATURE_IPC_NS | SHMR_FEATURE_LIST_ANON;
	bool kernel = shmr_backend() == SHMR_BACKEND_KERNEL;
	check(kernel ? (features & kernel_only) != 0 :
		       shmr_backend() == SHMR_BACKEND_POSIX && !(features & kernel_only),
	      "backend and features agree");
	/* the installed libshmr.so finds the installed tracker helper beside it */
	check(kernel || (features & SHMR_FEATURE_PROCESS), "posix: PROCESS through the tracker");
	check(std::string(shmr_backend_name()) == (kernel ? "kernel" : "posix"), "backend_name");
	check(shmr_backend_error() == nullptr, "no backend error");
	check(std::string(shmr_version()) == std::to_string(SHMR_VERSION_MAJOR) + "." +
		std::to_string(SHMR_VERSION_MINOR) + "." + std::to_string(SHMR_VERSION_PATCH),
	      "the library's version is the header's");

	uint32_t events = ~0U;
	std::array<shmr_attacher, 4> who{};
	std::array<shmr_exit, 4> exits{};
	if (kernel) {
		ret = shmr_region_who(r, who.data(), who.size());
		check(ret >= 1, "who", ret);
		ret = shmr_region_who_id(st.id, who.data(), who.size());
		check(ret >= 1, "who_id", ret);
		ret = shmr_region_events(r, &events);
		check(ret == 0 && !(events & (SHMR_EVENT_UNLINKED | SHMR_EVENT_SEALED)), "events", ret);
		ret = shmr_exit_list(exits.data(), exits.size(), 0);
		check(ret >= 0, "exit_list", ret);
		ret = shmr_region_seal(r);
		check(ret == 0, "seal", ret);
	} else {
		check(shmr_region_who(r, who.data(), who.size()) == -EOPNOTSUPP &&
		      shmr_region_who_id(st.id, who.data(), who.size()) == -EOPNOTSUPP &&
		      shmr_region_events(r, &events) == -EOPNOTSUPP &&
		      shmr_exit_list(exits.data(), exits.size(), SHMR_EXITS_CLEAR) == -EOPNOTSUPP &&
		      shmr_region_seal(r) == -EOPNOTSUPP,
		      "kernel-only calls are EOPNOTSUPP on posix");
	}
	(void)SHMR_EVENT_DETACHED;
	(void)SHMR_EVENT_PEER_DIED;
	(void)SHMR_REGION_PROCESS;
	(void)SHMR_REGION_HUGE;

	check(shmr_region_unmap(p) == 0, "unmap");
	check(shmr_region_close(ro) == 0 && shmr_region_close(r) == 0, "close");
	check(shmr_region_unlink(name.c_str()) == 0, "unlink");
	check(shmr_leak_count() == 0, "nothing leaked");
	check(shmr_leak_report(stderr) == 0, "empty leak report");
	static_assert(SHMR_LEAK_EXIT_CODE == 86, "leak exit code");
}

static void locks()
{
	Region reg(SHMR_REGION_OPTS(.size = sizeof(Shared)));
	Shared *s = nullptr;
	int ret;

	check(reg.err() == 0, "region for locks", reg.err());
	if (reg.err() || shmr_region_map(reg.get(), reinterpret_cast<void **>(&s)))
		return;
	check(shmr_mutex_init(&s->mutex, 0) == 0 && shmr_cond_init(&s->cond, 0) == 0 &&
	      shmr_rwlock_init(&s->rwlock, 0) == 0, "init");

	timespec deadline{};
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 5;
	check(shmr_mutex_lock(&s->mutex) == 0, "mutex_lock");
	pid_t pid = 0, tid = 0;
	ret = shmr_mutex_owner(&s->mutex, &pid, &tid);
	check(ret == 0 && pid == getpid(), "mutex_owner", ret);
	std::thread t([s] {
		int r1 = shmr_mutex_trylock(&s->mutex);
		check(r1 == -EBUSY, "trylock from another thread", r1);
		r1 = shmr_mutex_timedlock(&s->mutex, CLOCK_MONOTONIC, nullptr);
		check(r1 == -EINVAL, "timedlock without a time", r1);
		timespec t0{};
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r1 = shmr_mutex_timedlock(&s->mutex, CLOCK_MONOTONIC, &t0);
		check(r1 == -ETIMEDOUT, "timedlock times out", r1);
	});
	t.join();
	check(shmr_mutex_consistent(&s->mutex) == -EINVAL, "consistent when not inconsistent");

	// a cond wait that a thread signals
	std::thread waker([s] {
		shmr_mutex_lock(&s->mutex);
		s->counter = 1;
		shmr_cond_signal(&s->cond);
		shmr_cond_broadcast(&s->cond);
		shmr_mutex_unlock(&s->mutex);
	});
	ret = 0;
	while (s->counter == 0 && ret == 0) {
		timespec until = deadline;
		ret = shmr_cond_timedwait(&s->cond, &s->mutex, CLOCK_MONOTONIC, &until);
	}
	check(ret == 0 && s->counter == 1, "cond_timedwait woken", ret);
	check(shmr_mutex_unlock(&s->mutex) == 0, "mutex_unlock");
	waker.join();
	check(shmr_mutex_unlock(&s->mutex) == -EPERM, "unlock when not held");
	(void)&shmr_cond_wait;

	check(shmr_rwlock_rdlock(&s->rwlock) == 0 && shmr_rwlock_unlock(&s->rwlock) == 0 &&
	      shmr_rwlock_tryrdlock(&s->rwlock) == 0 && shmr_rwlock_unlock(&s->rwlock) == 0 &&
	      shmr_rwlock_timedrdlock(&s->rwlock, CLOCK_REALTIME, &deadline) != -EINVAL,
	      "rwlock read side");
	shmr_rwlock_unlock(&s->rwlock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	check(shmr_rwlock_wrlock(&s->rwlock) == 0 &&
	      shmr_rwlock_owner(&s->rwlock, &pid, &tid) == 0 && pid == getpid() &&
	      shmr_rwlock_unlock(&s->rwlock) == 0 && shmr_rwlock_trywrlock(&s->rwlock) == 0 &&
	      shmr_rwlock_unlock(&s->rwlock) == 0 &&
	      shmr_rwlock_timedwrlock(&s->rwlock, CLOCK_REALTIME, &deadline) == 0 &&
	      shmr_rwlock_consistent(&s->rwlock) == -EINVAL && shmr_rwlock_unlock(&s->rwlock) == 0,
	      "rwlock write side");
	check(shmr_rwlock_owner(&s->rwlock, nullptr, nullptr) == -ENOENT, "rwlock free");
	static_assert(SHMR_RWLOCK_READERS >= 1, "readers");
	shmr_region_unmap(s);
}

static void batch(const std::string &name)
{
	shmr_batch *b = nullptr;
	shmr_region *r = nullptr;
	struct shmr_region_stat st{};
	uint64_t features = 0;
	uint32_t events = 0;
	int ret;

	ret = shmr_batch_new(8, SHMR_BATCH_FALLBACK, &b);
	check(ret == 0, "batch_new", ret);
	if (ret)
		return;
	int tr = shmr_batch_transport(b);
	check(tr == SHMR_BATCH_IOCTL || tr == SHMR_BATCH_POSIX, "fallback transport", tr);
	(void)SHMR_BATCH_RING;
	check(shmr_batch_create(b, &SHMR_REGION_OPTS(.name = name.c_str(), .size = 4096), &r) == 0 &&
	      shmr_batch_features(b, &features) == 1 && shmr_batch_list(b, nullptr, 0) == 2,
	      "batch queue");
	ret = shmr_batch_submit(b);
	check(ret == 3 && shmr_batch_result(b, 0) == 0 && r && shmr_batch_result(b, 2) >= 1,
	      "batch submit", ret);
	shmr_region *o = nullptr;
	check(shmr_batch_open(b, name.c_str(), 0, &o) == 0 && shmr_batch_stat(b, r, &st) == 1 &&
	      shmr_batch_stat_id(b, 0, &st) == 2 && shmr_batch_events(b, r, &events) == 3,
	      "batch queue 2");
	(void)&shmr_batch_wait_events;
	ret = shmr_batch_submit(b);
	check(ret == 4 && shmr_batch_result(b, 0) == 0 && shmr_batch_result(b, 1) == 0 &&
	      shmr_batch_result(b, 2) == -ENOENT, "batch submit 2", ret);
	check(shmr_batch_unlink(b, name.c_str()) == 0 && shmr_batch_submit(b) == 1 &&
	      shmr_batch_result(b, 0) == 0, "batch unlink");
	shmr_batch_free(b);
	shmr_region_close(o);
	shmr_region_close(r);
}

int main()
{
	std::string name = "cxx-" + std::to_string(getpid());

	regions(name);
	locks();
	batch(name + "-b");
	check(shmr_leak_count() == 0, "nothing leaked at the end");
	std::printf("done, %d failed\n", failures);
	return failures ? 1 : 0;
}
