// agent/store/sqlite.hpp — a thin RAII layer over the SQLite C API: one owned connection, owned
// prepared statements, and a transaction guard that rolls back unless committed. Internal.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include "base/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace berth::store {

class Statement {
public:
    Statement(sqlite3* db, sqlite3_stmt* stmt) noexcept : db_(db), stmt_(stmt) {}
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    // Parameters are 1-based, as in SQLite. Text is copied (SQLITE_TRANSIENT).
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, std::int64_t value);
    Statement& bind_null(int index);
    // true: a row is ready; false: done. Binding errors surface here.
    Result<bool> step();
    Result<void> run(); // step() to completion, for statements without rows

    std::string text(int column) const;
    std::int64_t integer(int column) const;
    std::optional<std::int64_t> optional_integer(int column) const;

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
    int bind_error_ = 0;
};

class Connection {
public:
    static Result<Connection> open(const std::string& path);
    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&&) = delete;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    Result<void> exec(const char* sql);
    Result<Statement> prepare(std::string_view sql) const;
    sqlite3* handle() const noexcept { return db_; }

private:
    explicit Connection(sqlite3* db) noexcept : db_(db) {}
    sqlite3* db_;
};

// BEGIN IMMEDIATE (the write lock up front, so two writers never deadlock upgrading), ROLLBACK in
// the destructor unless commit() succeeded.
class Transaction {
public:
    static Result<Transaction> begin(Connection& db);
    Transaction(Transaction&& other) noexcept : db_(other.db_), open_(other.open_)
    {
        other.open_ = false;
    }
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    Result<void> commit();

private:
    explicit Transaction(Connection& db) : db_(&db) {}
    Connection* db_;
    bool open_ = true;
};

// An Error from the connection's last failure: "<what>: <sqlite message>", errno EIO.
Error sqlite_error(sqlite3* db, std::string_view what);

} // namespace berth::store
