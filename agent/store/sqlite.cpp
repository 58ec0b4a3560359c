// agent/store/sqlite.cpp — the RAII layer over SQLite's C API (see sqlite.hpp).
#include "agent/store/sqlite.hpp"
#include <sqlite3.h>
#include <cerrno>
#include <utility>

namespace berth::store {

Error sqlite_error(sqlite3* db, std::string_view what)
{
    const char* message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    return Error::with_code(EIO, what, ": ", message);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(other.bind_error_)
{
}

Statement::~Statement()
{
    if (stmt_ != nullptr)
        sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::string_view text)
{
    const int rc =
        sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK && bind_error_ == 0)
        bind_error_ = rc;
    return *this;
}

Statement& Statement::bind(int index, std::int64_t value)
{
    const int rc = sqlite3_bind_int64(stmt_, index, value);
    if (rc != SQLITE_OK && bind_error_ == 0)
        bind_error_ = rc;
    return *this;
}

Statement& Statement::bind_null(int index)
{
    const int rc = sqlite3_bind_null(stmt_, index);
    if (rc != SQLITE_OK && bind_error_ == 0)
        bind_error_ = rc;
    return *this;
}

Result<bool> Statement::step()
{
    if (bind_error_ != 0)
        return Error::with_code(EIO, "bind parameter: ", sqlite3_errstr(bind_error_));
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    return sqlite_error(db_, sqlite3_sql(stmt_));
}

Result<void> Statement::run()
{
    for (;;) {
        auto row = step();
        if (!row)
            return std::move(row).error();
        if (!*row)
            return {};
    }
}

std::string Statement::text(int column) const
{
    const auto* bytes = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (bytes == nullptr)
        return {};
    return {reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size)};
}

std::int64_t Statement::integer(int column) const
{
    return sqlite3_column_int64(stmt_, column);
}

std::optional<std::int64_t> Statement::optional_integer(int column) const
{
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL)
        return std::nullopt;
    return sqlite3_column_int64(stmt_, column);
}

Result<Connection> Connection::open(const std::string& path)
{
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                                   nullptr);
    Connection connection(db); // owns db even when open failed (sqlite3_close frees it)
    if (rc != SQLITE_OK)
        return sqlite_error(db, cat("open database ", quoted(path)));
    return connection;
}

Connection::Connection(Connection&& other) noexcept : db_(std::exchange(other.db_, nullptr))
{
}

Connection::~Connection()
{
    if (db_ != nullptr)
        sqlite3_close_v2(db_);
}

Result<void> Connection::exec(const char* sql)
{
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        return sqlite_error(db_, sql);
    return {};
}

Result<Statement> Connection::prepare(std::string_view sql) const
{
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK)
        return sqlite_error(db_, cat("prepare ", sql));
    return Statement(db_, stmt);
}

Result<Transaction> Transaction::begin(Connection& db)
{
    if (auto r = db.exec("BEGIN IMMEDIATE"); !r)
        return std::move(r).error();
    return Transaction(db);
}

Transaction::~Transaction()
{
    if (open_)
        (void)db_->exec("ROLLBACK"); // nothing to do about a failed rollback: SQLite undoes it
}

Result<void> Transaction::commit()
{
    auto r = db_->exec("COMMIT");
    if (r)
        open_ = false;
    return r;
}

} // namespace berth::store
