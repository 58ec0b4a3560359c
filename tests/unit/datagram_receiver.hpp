// tests/unit/datagram_receiver.hpp — the receiving end the journal and sd_notify tests make: a
// real AF_UNIX datagram socket bound in a fresh temporary directory (or the abstract namespace),
// read back with the fds passed alongside. Removes its directory when done.
#pragma once
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string>
#include <boost/test/unit_test.hpp>
#include "base/fd.hpp"

struct Datagram {
    std::string bytes;
    berth::Fd passed; // an SCM_RIGHTS fd, when one came
};

class DatagramReceiver {
public:
    // abstract_name empty: a path socket in a temporary directory; else "@<abstract_name>".
    explicit DatagramReceiver(const std::string& abstract_name = "")
    {
        socket_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        BOOST_TEST_REQUIRE(socket_.valid());
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        socklen_t length = 0;
        if (abstract_name.empty()) {
            std::string dir = "/tmp/berth-dgram-XXXXXX";
            BOOST_TEST_REQUIRE(::mkdtemp(dir.data()) != nullptr);
            dir_ = dir;
            name_ = dir_ + "/socket";
            BOOST_TEST_REQUIRE(name_.size() < sizeof(addr.sun_path));
            std::memcpy(addr.sun_path, name_.c_str(), name_.size() + 1);
            length = sizeof(addr);
        } else {
            name_ = "@" + abstract_name;
            BOOST_TEST_REQUIRE(abstract_name.size() < sizeof(addr.sun_path));
            std::memcpy(addr.sun_path + 1, abstract_name.data(), abstract_name.size());
            length =
                static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name.size());
        }
        BOOST_TEST_REQUIRE(::bind(socket_.get(), reinterpret_cast<sockaddr*>(&addr), length) == 0);
    }
    DatagramReceiver(const DatagramReceiver&) = delete;
    DatagramReceiver& operator=(const DatagramReceiver&) = delete;
    ~DatagramReceiver()
    {
        if (!dir_.empty()) {
            ::unlink(name_.c_str());
            ::rmdir(dir_.c_str());
        }
    }

    const std::string& name() const { return name_; }

    // The next datagram; none waiting: the test fails (nothing blocks).
    Datagram receive() const
    {
        Datagram out;
        out.bytes.resize(4U << 20U);
        iovec iov{out.bytes.data(), out.bytes.size()};
        alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        const ssize_t n = ::recvmsg(socket_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        BOOST_TEST_REQUIRE(n >= 0);
        out.bytes.resize(static_cast<std::size_t>(n));
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int fd = -1;
                std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
                out.passed.reset(fd);
            }
        }
        return out;
    }

    bool empty() const
    {
        char byte = 0;
        return ::recv(socket_.get(), &byte, 1, MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN;
    }

private:
    berth::Fd socket_;
    std::string dir_;
    std::string name_;
};
