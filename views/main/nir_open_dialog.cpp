#include "main/nir_open_dialog.h"

#include "common/theme.h"

#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace stc::views {

namespace {

std::optional<double> parseDecimal(const QString& s)
{
    bool ok = false;
    const double v = s.trimmed().toDouble(&ok); // C locale: "1e-4", "0.5"
    return ok ? std::optional<double>(v) : std::nullopt;
}

} // namespace

std::optional<double> parseNirDt(const QString& text, QString* why)
{
    const QString t = text.trimmed();
    auto refuse = [why](const QString& reason) -> std::optional<double> {
        if (why)
            *why = reason;
        return std::nullopt;
    };
    if (t.isEmpty())
        return refuse("dt is empty: give seconds, e.g. 0.000244140625, 1/4096 or 1e-4");
    const QStringList parts = t.split('/');
    std::optional<double> v;
    if (parts.size() == 1) {
        v = parseDecimal(parts[0]);
    } else if (parts.size() == 2) {
        const auto num = parseDecimal(parts[0]), den = parseDecimal(parts[1]);
        if (num && den && *den == 0.0)
            return refuse("dt '" + t + "' divides by zero");
        if (num && den)
            v = *num / *den;
    }
    if (!v)
        return refuse("dt '" + t + "' is not a number of seconds (e.g. 0.000244140625, 1/4096 or 1e-4)");
    if (!std::isfinite(*v))
        return refuse("dt '" + t + "' is not finite");
    if (!(*v > 0.0))
        return refuse("dt '" + t + "' must be > 0 seconds");
    if (why)
        why->clear();
    return v;
}

NirOpenDialog::NirOpenDialog(const QString& path, bool askTimesteps, int64_t suggestedTimesteps, bool askDt,
                             const QString& suggestedDt, QWidget* parent)
    : QDialog(parent)
{
    setWindowTitle("Open NIR graph");
    setObjectName("dialog.nirOpen");
    QStringList missing;
    if (askTimesteps)
        missing << "its number of time steps (stc_timesteps)";
    if (askDt)
        missing << "its time step dt (stc_dt)";
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(QString("<b>%1</b> does not record %2.")
                                 .arg(QFileInfo(path).fileName().toHtmlEscaped(), missing.join(" or ")));
    intro->setWordWrap(true);
    layout->addWidget(intro);
    auto* form = new QFormLayout;
    if (askTimesteps) {
        tEdit_ = new QSpinBox;
        tEdit_->setObjectName("nir.timesteps");
        tEdit_->setRange(1, 1000000);
        tEdit_->setValue(int(std::clamp<int64_t>(suggestedTimesteps, 1, 1000000)));
        tEdit_->setToolTip("Time steps to unroll the graph over (the CLI's --timesteps)");
        form->addRow("Time steps T:", tEdit_);
    }
    if (askDt) {
        dtEdit_ = new QLineEdit(suggestedDt);
        dtEdit_->setObjectName("nir.dt");
        dtEdit_->setPlaceholderText("e.g. 0.000244140625, 1/4096 or 1e-4");
        dtEdit_->setToolTip("Seconds per time step (the CLI's --dt)");
        form->addRow("dt (seconds):", dtEdit_);
    }
    layout->addLayout(form);
    if (askDt) {
        auto* help = new QLabel(
            "dt turns the graph's time constants (tau, in seconds) into per-step decays: decay = dt/tau. "
            "The right dt depends on the tool that wrote the file (e.g. Lava-DL: 1/4096 s, Sinabs: 1); "
            "see docs/nir.md. The default 1e-4 s is what snnTorch and Norse assume.");
        help->setWordWrap(true);
        help->setObjectName("nir.help");
        QFont f = help->font();
        f.setPointSizeF(f.pointSizeF() * 0.92);
        help->setFont(f);
        layout->addWidget(help);
    }
    error_ = new QLabel;
    error_->setObjectName("nir.error");
    error_->setWordWrap(true);
    error_->setStyleSheet(QString("color: %1").arg(theme::errorColor(theme::isDark()).name()));
    layout->addWidget(error_);
    buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons_->button(QDialogButtonBox::Ok)->setText("Open");
    connect(buttons_, &QDialogButtonBox::accepted, this, &NirOpenDialog::accept);
    connect(buttons_, &QDialogButtonBox::rejected, this, &NirOpenDialog::reject);
    layout->addWidget(buttons_);
    if (dtEdit_)
        connect(dtEdit_, &QLineEdit::textChanged, this, &NirOpenDialog::validate);
    validate();
    setMinimumWidth(460);
}

int64_t NirOpenDialog::timesteps() const { return tEdit_ ? tEdit_->value() : 0; }

std::optional<double> NirOpenDialog::dt() const { return dtEdit_ ? parseNirDt(dtEdit_->text(), nullptr) : std::nullopt; }

QString NirOpenDialog::dtError() const
{
    QString why;
    if (dtEdit_)
        parseNirDt(dtEdit_->text(), &why);
    return why;
}

void NirOpenDialog::validate()
{
    const QString why = dtError();
    error_->setText(why);
    error_->setVisible(!why.isEmpty());
    buttons_->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());
}

void NirOpenDialog::accept()
{
    validate();
    if (!dtError().isEmpty())
        return; // refused: the reason is shown under the fields
    QDialog::accept();
}

} // namespace stc::views
