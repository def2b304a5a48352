#pragma once
/// Memory for the large, long-lived state a run makes once per design point (its scenario, its
/// summary's counts): in few large pieces, on huge pages where the kernel gives them. A hint and a
/// placement only: contents and results are the same wherever the memory is.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <new>

namespace wedge::engine {

/// Asks the kernel to back the whole 2 MiB pages inside [data, data + bytes) with transparent
/// huge pages when they are first touched (Linux madvise(MADV_HUGEPAGE); elsewhere, or when the
/// kernel refuses, nothing happens). Call it on memory not yet touched (just allocated, e.g.
/// after std::vector::reserve): one huge page then takes the place of 512 page faults, the
/// largest fixed cost of a design point on a VM. Ranges holding no whole 2 MiB page are left
/// alone. Returns the bytes advised (0 if none).
std::size_t advise_huge_pages(const void* data, std::size_t bytes) noexcept;

/// The bytes allocate_huge_array gives for a request of `bytes`: from 1 MiB on rounded up to a
/// whole number of 2 MiB pages (all of them the caller's to use), below it `bytes`. Throws
/// std::bad_alloc where the rounding overflows.
std::size_t huge_array_capacity(std::size_t bytes);
/// Allocates `bytes` for a large array that is to be first touched after this call: from 1 MiB
/// on, aligned to and a whole number of 2 MiB pages (huge_array_capacity), all of them advised
/// huge pages (so no page of the array is left to 4 KiB faults at its ends, as where malloc
/// places it, and one fault backs up to 2 MiB); below, plain operator new. Throws
/// std::bad_alloc. Free with release_huge_array(p, bytes) (the same bytes).
void* allocate_huge_array(std::size_t bytes);
/// Frees what allocate_huge_array(bytes) returned (nothing for nullptr).
void release_huge_array(void* p, std::size_t bytes) noexcept;

/// A std allocator for the large arrays made once per run (a design point's scenario each):
/// allocate_huge_array's memory. Stateless: every instance equals every other. The contents are
/// the same wherever they are; only how the kernel backs them changes.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(allocate_huge_array(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { release_huge_array(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

/// A memory resource that hands out consecutive pieces of one buffer of `capacity` bytes,
/// allocated at construction by allocate_huge_array (untouched; from 1 MiB on aligned to, and a
/// whole number of, 2 MiB pages advised huge pages; below, 64-byte aligned), each piece
/// rounded up to 64 bytes (a cache line, so threads filling neighbouring pieces do not share
/// one). Thread-safe: pieces are claimed by an atomic bump. Freeing a piece of the buffer does
/// nothing (its memory is released with the arena); what does not fit any more, or needs more
/// than 64-byte alignment, comes from (and returns to) `upstream`. The arena must outlive every
/// piece it gave (holders keep it by shared_ptr: Summary's arena constructor).
class BumpArena final : public std::pmr::memory_resource {
 public:
  static constexpr std::size_t PIECE_ALIGN = 64;
  /// Bytes a piece of `bytes` takes in the buffer (rounded up to PIECE_ALIGN).
  static constexpr std::size_t piece_bytes(std::size_t bytes) noexcept {
    return (bytes + PIECE_ALIGN - 1) / PIECE_ALIGN * PIECE_ALIGN;
  }
  explicit BumpArena(std::size_t capacity,
                     std::pmr::memory_resource* upstream = std::pmr::new_delete_resource());
  BumpArena(const BumpArena&) = delete;
  BumpArena& operator=(const BumpArena&) = delete;
  ~BumpArena() override;

  std::size_t capacity() const noexcept { return capacity_; }
  /// Bytes of the buffer handed out so far (at most capacity()).
  std::size_t used() const noexcept;
  /// Whether `p` points into the buffer.
  bool owns(const void* p) const noexcept;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::pmr::memory_resource* upstream_;
  std::byte* buffer_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t bytes_ = 0;  ///< of the buffer: huge_array_capacity(capacity_)
  std::atomic<std::size_t> next_{0};
};

}  // namespace wedge::engine
