#include "../engine/toy_model.hpp"
#include "../experiments/temp_dir.hpp"
#include "coin_file.hpp"
#include "engine/error.hpp"
#include "output/background_sync.hpp"
#include "output/results_sink.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace wedge;

namespace {

/// Spins (yielding) until `done()`: no time limit, so no timed test.
template <class F>
void await(F done) {
  while (!done()) std::this_thread::yield();
}

/// A sync function that blocks until opened, counting its calls and their descriptors.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> entered{0};
  std::vector<int> fds;
  int error = 0;
  output::BackgroundSync::SyncFunction function() {
    return [this](int fd) {
      std::unique_lock lock(mutex);
      fds.push_back(fd);
      ++entered;
      cv.wait(lock, [this] { return open; });
      return error;
    };
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    cv.notify_all();
  }
};

}  // namespace

TEST_CASE(
    "background sync: runs on its own thread, coalesces requests, waits for the one under way",
    "[output][background_sync]") {
  Gate gate;
  output::BackgroundSync sync(gate.function());
  sync.request(7);  // never waits for the sync, which blocks until released
  await([&] { return gate.entered.load() == 1; });
  // Three requests while one runs: one more sync after it, not three.
  sync.request(8);
  sync.request(8);
  sync.request(9);
  gate.release();
  await([&] { return sync.completed() == 2; });
  CHECK(sync.wait_idle() == 0);
  CHECK(sync.completed() == 2);
  CHECK(gate.fds == std::vector<int>{7, 9});  // the latest descriptor asked for
  // Stopped, it starts again on the next request.
  CHECK(sync.stop() == 0);
  sync.request(3);
  await([&] { return sync.completed() == 3; });
  CHECK(sync.stop() == 0);
  CHECK(gate.fds.back() == 3);
}

TEST_CASE("background sync: a failed sync is reported once, by the next wait_idle or stop",
          "[output][background_sync]") {
  Gate gate;
  gate.error = EIO;
  output::BackgroundSync sync(gate.function());
  sync.request(5);
  await([&] { return gate.entered.load() == 1; });
  std::atomic<int> waited{-1};
  std::thread waiter([&] { waited = sync.wait_idle(); });  // waits for the sync under way
  gate.release();
  waiter.join();
  CHECK(waited.load() == EIO);
  CHECK(sync.wait_idle() == 0);  // reported once
  sync.request(5);
  await([&] { return sync.completed() == 2; });
  CHECK(sync.stop() == EIO);
}

TEST_CASE(
    "background sync: appends between checkpoints are synced, and their errors fail the "
    "next checkpoint",
    "[output][background_sync]") {
  using wedge::test::CoinModel;
  const auto layout = engine::FieldLayout::from(CoinModel::fields());
  const std::vector<CoinModel::Params> params{{0.25, 9}, {0.5, 9}, {0.75, 9}};
  const auto blocks = engine::make_blocks(engine::full_plan(3, 1000), 64);
  engine::RunOptions options;
  options.seed = 42;
  options.wave_blocks = 4;  // 12 waves, each followed by start_writeback (no checkpoint)
  for (const int error : {0, EIO}) {
    test::TempDir dir;
    const std::string path = dir.path("coins.h5");
    output::ResultsWriter writer(path, test::coin_metadata(3, 1000, true), layout, 3);
    std::atomic<int> calls{0};
    writer.set_writeback_bytes(0);  // a sync after every wave (the file is < 1 MB)
    writer.background_sync().set_sync([&](int fd) {
      ++calls;
      return fd >= 0 ? error : EBADF;
    });
    auto summaries = engine::make_summaries<CoinModel>(3);
    output::ResultsSink<CoinModel> sink(writer, summaries, 0, 0.0, 1e9);
    engine::run_blocks<CoinModel>(params, blocks, summaries, options, &sink);
    await([&] { return writer.background_sync().completed() >= 1; });
    CHECK(calls.load() >= 1);
    if (error == 0) {
      sink.finish(true);
      writer.close();
      const auto info = output::read_results(path, layout);
      CHECK(info.complete);
      CHECK(info.runs_done == 3000);
      output::verify_runs(info, layout);  // every record, every chunk's checksum
    } else {
      // The writeback error reached no fsync of the checkpoint's: the checkpoint reports it.
      CHECK_THROWS_WITH(sink.finish(true),
                        Catch::Contains("coins.h5: cannot sync to disk: Input/output error"));
      writer.abandon();
    }
  }
}
