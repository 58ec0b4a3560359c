// agent/daemon/housekeeping.cpp — the loop's periodic chores, each on its own timer and run on a
// worker: (1) berth's nftables table checked against the ruleset generation and rebuilt when
// someone else rewrote the ruleset (a firewalld reload or `nft flush ruleset` would otherwise cut
// every task's port mappings until the next restart), on every nftables change event and every
// 5 s as a fallback; (2) image cleanup by the ECS settings
// (ECS_IMAGE_CLEANUP_INTERVAL, ECS_IMAGE_MINIMUM_CLEANUP_AGE, ECS_NUM_IMAGES_DELETE_PER_CYCLE,
// ECS_DISABLE_IMAGE_CLEANUP): idle images only, never one a task's lease or a rootfs holds.
#include <fcntl.h>
#include <chrono>
#include "agent/daemon/internal.hpp"
#include "base/log.hpp"

namespace berth::daemon {

namespace {

// One netlink round trip when nothing changed: cheap enough to be prompt. The fallback when
// the ruleset watch is missing or lost notifications.
constexpr std::chrono::seconds firewall_check_interval{5};

} // namespace

void Daemon::Impl::start_housekeeping()
{
    firewall_timer = std::make_unique<asio::system_timer>(io);
    arm_firewall_check();
    auto watch = net::RulesetWatch::open();
    const int fd = watch ? ::fcntl(watch->fd(), F_DUPFD_CLOEXEC, 0) : -1; // asio closes its own
    if (fd >= 0) {
        ruleset_watch.emplace(std::move(*watch));
        ruleset_events = std::make_unique<asio::posix::stream_descriptor>(io, fd);
        arm_ruleset_watch();
    } else {
        const Error why =
            watch ? Error::from_errno("duplicate the nftables watch fd") : watch.error();
        log::warn("no nftables change events: firewall reloads are found by the 5 s poll",
                  {{"error", why.message()}});
    }
    if (!options.config.image_cleanup_disabled) {
        image_timer = std::make_unique<asio::system_timer>(io);
        arm_image_cleanup();
    }
}

void Daemon::Impl::check_firewall(std::function<void()> then)
{
    offload(
        [this] {
            const std::lock_guard lock(network_mutex);
            return network.check_and_repair();
        },
        [then = std::move(then)](Result<bool> repaired) {
            if (!repaired)
                log::error(repaired.error(), "cannot check berth's nftables table");
            else if (*repaired)
                log::warn("the nftables ruleset was rewritten by someone else: berth's "
                          "table rebuilt from its state");
            then();
        });
}

void Daemon::Impl::arm_firewall_check()
{
    firewall_timer->expires_after(firewall_check_interval);
    firewall_timer->async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return; // the loop is going away
        check_firewall([this] { arm_firewall_check(); });
    });
}

// Any nftables commit wakes this, berth's own included (check_and_repair() tells those apart
// in one round trip). Notifications that arrive while a check runs queue in the socket and
// make one more check: a burst (iptables-restore) costs a few checks, not one per message.
void Daemon::Impl::arm_ruleset_watch()
{
    ruleset_events->async_wait(
        asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
            if (ec)
                return; // the loop is going away
            auto changed = ruleset_watch->drain();
            if (!changed) {
                log::error(changed.error(), "nftables change events stopped: the 5 s poll "
                                            "goes on");
                return;
            }
            check_firewall([this] { arm_ruleset_watch(); });
        });
}

void Daemon::Impl::arm_image_cleanup()
{
    const auto& c = options.config;
    if (c.image_cleanup_disabled)
        return; // turned off by a reload (reload.cpp)
    image_timer->expires_after(c.image_cleanup_interval);
    image_timer->async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        const auto& c = options.config;
        image::GcOptions gc;
        gc.policy = image::GcPolicy{};
        gc.policy->minimum_age =
            std::chrono::duration_cast<std::chrono::seconds>(c.image_minimum_cleanup_age);
        gc.policy->images_per_cycle = c.images_deleted_per_cycle;
        offload_on(
            cleanup_worker.get_executor(), [this, gc] { return images.gc(gc); },
            [this](Result<image::GcReport> report) {
                if (!report)
                    log::error(report.error(), "image cleanup failed");
                else if (!report->images.empty() || report->bytes_freed != 0)
                    log::info("image cleanup",
                              {{"images", std::to_string(report->images.size())},
                               {"bytes_freed", std::to_string(report->bytes_freed)}});
                arm_image_cleanup();
            });
    });
}

} // namespace berth::daemon
