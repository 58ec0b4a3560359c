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
#include <vector>
#include <boost/test/unit_test.hpp>
#include "base/fd.hpp"
#include "base/fd_passing.hpp"

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
        std::vector<berth::Fd> passed;
        const auto n = berth::receive_with_fds(socket_.get(), out.bytes, passed, MSG_DONTWAIT);
        BOOST_TEST_REQUIRE(n.has_value());
        out.bytes.resize(*n);
        if (!passed.empty())
            out.passed = std::move(passed.front());
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
