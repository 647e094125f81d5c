// The dialog the IDE shows when a .nir graph lacks stc_timesteps and/or
// stc_dt: one small form asking for whichever is missing (T, and dt in
// seconds, which turns the graph's time constants into per-step decays).
#pragma once

#include "document/stages.h" // formatNirDt

#include <QDialog>

#include <cstdint>
#include <optional>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace stc::views {

// dt in seconds from text such as "0.000244140625", "1e-4" or "1/4096"
// (a decimal, or a quotient of two decimals). Refused with the reason in
// *why: empty, not a number, not > 0, not finite.
std::optional<double> parseNirDt(const QString& text, QString* why);

class NirOpenDialog : public QDialog {
    Q_OBJECT
public:
    // Asks for T when askTimesteps, for dt when askDt (at least one).
    NirOpenDialog(const QString& path, bool askTimesteps, int64_t suggestedTimesteps, bool askDt,
                  const QString& suggestedDt, QWidget* parent = nullptr);

    int64_t timesteps() const;    // valid after acceptance when asked
    std::optional<double> dt() const; // the parsed dt field, nullopt when refused or not asked
    QString dtError() const;      // why the dt field is refused ("" when it is accepted)
    QLineEdit* dtField() const { return dtEdit_; }
    QSpinBox* timestepsField() const { return tEdit_; }

public slots:
    void accept() override; // refuses (stays open) while the dt field is invalid

private:
    void validate();

    QSpinBox* tEdit_ = nullptr;
    QLineEdit* dtEdit_ = nullptr;
    QLabel* error_ = nullptr;
    QDialogButtonBox* buttons_ = nullptr;
};

} // namespace stc::views
