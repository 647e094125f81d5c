#include "common/settings_writer.h"

#include <QCoreApplication>
#include <QSettings>
#include <QThreadPool>

namespace stc::views::settings {

namespace {

QThreadPool& writerPool()
{
    static QThreadPool* pool = [] {
        auto* p = new QThreadPool(QCoreApplication::instance());
        p->setMaxThreadCount(1); // one thread: writes land in the order they were made
        p->setExpiryTimeout(-1);
        return p;
    }();
    return *pool;
}

} // namespace

void startWriter()
{
    writerPool().start([] {});
}

void writeLater(const QString& key, const QVariant& value)
{
    // The organisation/application names are read now, on the caller's thread.
    const QString org = QCoreApplication::organizationName();
    const QString app = QCoreApplication::applicationName();
    writerPool().start([org, app, key, value] {
        QSettings s(org, app);
        if (value.isValid())
            s.setValue(key, value);
        else
            s.remove(key);
    });
}

void waitForWrites() { writerPool().waitForDone(); }

} // namespace stc::views::settings
