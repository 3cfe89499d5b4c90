// A one-line text field of the job form: its label, the input, and the help under it when there is some.
export function InputField({
  label,
  value,
  onChange,
  help,
  placeholder,
  autoComplete,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  help?: string;
  placeholder?: string;
  autoComplete?: string;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <input
        value={value}
        onChange={(event) => onChange(event.target.value)}
        placeholder={placeholder}
        autoComplete={autoComplete}
      />
      {help && <small>{help}</small>}
    </label>
  );
}
