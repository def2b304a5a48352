#include "engine/memory.hpp"

#include <algorithm>
#include <cstdint>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace wedge::engine {

std::size_t advise_huge_pages(const void* data, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t HUGE = std::uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  if (data == nullptr || bytes < HUGE || begin > UINTPTR_MAX - bytes) return 0;
  const std::uintptr_t first = (begin + HUGE - 1) & ~(HUGE - 1);
  const std::uintptr_t last = (begin + bytes) & ~(HUGE - 1);
  if (last <= first) return 0;
  // The range is inside one allocation of the caller's; madvise only changes how it is backed.
  if (madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE) != 0) return 0;
  return last - first;
#else
  (void)data, (void)bytes;
  return 0;
#endif
}

namespace {
constexpr std::size_t HUGE_PAGE = std::size_t{2} << 20;
/// From this size on an array is whole huge pages (rounding 1 MiB up to 2 MiB wastes at most
/// half of the memory, and saves ~256 faults of 4 KiB).
constexpr std::size_t HUGE_ARRAY = HUGE_PAGE / 2;
/// Below it, a cache line (no false sharing between arrays filled by different threads).
constexpr std::size_t SMALL_ALIGN = 64;
}  // namespace

std::size_t huge_array_capacity(std::size_t bytes) {
  if (bytes < HUGE_ARRAY) return bytes;
  if (bytes > SIZE_MAX - HUGE_PAGE) throw std::bad_alloc();
  return (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
}

void* allocate_huge_array(std::size_t bytes) {
  if (bytes < HUGE_ARRAY) return ::operator new (bytes, std::align_val_t{SMALL_ALIGN});
  const std::size_t whole = huge_array_capacity(bytes);
  void* p = ::operator new (whole, std::align_val_t{HUGE_PAGE});
  advise_huge_pages(p, whole);
  return p;
}

void release_huge_array(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  // Unsized, as BumpArena's buffer: clang declares the sized aligned form only with
  // -fsized-deallocation.
  if (bytes < HUGE_ARRAY) {
    ::operator delete (p, std::align_val_t{SMALL_ALIGN});
  } else {
    ::operator delete (p, std::align_val_t{HUGE_PAGE});
  }
}

BumpArena::BumpArena(std::size_t capacity, std::pmr::memory_resource* upstream)
    : upstream_(upstream), capacity_(capacity / PIECE_ALIGN * PIECE_ALIGN) {
  if (capacity_ > 0) {
    // Whole 2 MiB pages from 1 MiB on (allocate_huge_array; the rest is never touched), so every
    // byte of it may be on huge pages. Not value-initialised: nothing is touched before the
    // pieces are used.
    bytes_ = huge_array_capacity(capacity_);
    buffer_ = static_cast<std::byte*>(allocate_huge_array(bytes_));
  }
}

BumpArena::~BumpArena() { release_huge_array(buffer_, bytes_); }

std::size_t BumpArena::used() const noexcept {
  return std::min(next_.load(std::memory_order_relaxed), capacity_);
}

bool BumpArena::owns(const void* p) const noexcept {
  const auto* b = static_cast<const std::byte*>(p);
  return buffer_ != nullptr && b >= buffer_ && b < buffer_ + capacity_;
}

void* BumpArena::do_allocate(std::size_t bytes, std::size_t alignment) {
  if (alignment <= PIECE_ALIGN && bytes <= capacity_) {
    const std::size_t size = piece_bytes(std::max<std::size_t>(bytes, 1));
    const std::size_t at = next_.fetch_add(size, std::memory_order_relaxed);
    if (at <= capacity_ - size) return buffer_ + at;
    // Full: later pieces come from upstream (next_ stays past the end).
  }
  return upstream_->allocate(bytes, alignment);
}

void BumpArena::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  if (owns(p)) return;  // released with the buffer
  upstream_->deallocate(p, bytes, alignment);
}

}  // namespace wedge::engine
